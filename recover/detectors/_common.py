"""Helpers shared by detectors: classification of a reason into the taxonomy."""

from __future__ import annotations

from collections.abc import Callable

from recover.explain.taxonomy import Classification

Classifier = Callable[[str], Classification]


def default_classifier() -> Classifier:
    def classify(message: str) -> Classification:
        from recover.explain.classify import classify as real

        return real(message)

    return classify
