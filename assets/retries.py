"""Which step failures are retried.

Steps that fail on a transient error (a dropped connection to the database, object store
or a network file system: an `OSError`) are retried after ~2, 4 and 8 s. Everything else
fails at once: bad input (`dg.Failure(allow_retries=False)` in the assets), failed
blocking checks, and faults in the code itself, which fail the same way every time (a
template error used to cost three retries and ~14 s before the evaluator saw it).
A crashed run worker is retried as a whole by the instance's run_retries
(deploy/dagster.yaml).
"""

from __future__ import annotations

import functools
import inspect

import dagster as dg

TRANSIENT_RETRIES = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Connection resets, timeouts, broken pipes, a share that went away: worth another try.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError,)
_PASS_THROUGH = (dg.Failure, dg.RetryRequested, *TRANSIENT_ERRORS)


def _fault(error: Exception) -> dg.Failure:
    message = " ".join(str(error).split()) or "(no message)"
    return dg.Failure(
        description=f"{type(error).__name__}: {message}. A fault in value_pipeline, not in the data: not retried; "
                    "the traceback is below.",
        allow_retries=False,
    )


def retry_transient_only(compute):
    """Wrap an asset's compute function so that only transient errors reach the retry
    policy; any other exception becomes a `dg.Failure` that is not retried (its
    traceback kept as the cause). Generator assets are wrapped as generators."""
    if inspect.isgeneratorfunction(compute):
        @functools.wraps(compute)
        def wrapped_generator(*args, **kwargs):
            try:
                yield from compute(*args, **kwargs)
            except _PASS_THROUGH:
                raise
            except Exception as error:
                raise _fault(error) from error

        wrapped_generator.retries_transient_only = True
        return wrapped_generator

    @functools.wraps(compute)
    def wrapped(*args, **kwargs):
        try:
            return compute(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except Exception as error:
            raise _fault(error) from error

    wrapped.retries_transient_only = True
    return wrapped
