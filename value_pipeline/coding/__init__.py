"""Interaction coding: the codebook as data and the coders that apply it."""
