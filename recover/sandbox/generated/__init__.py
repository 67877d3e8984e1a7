"""Generated failure worlds (issue 14 part 7): a seeded generator composing broken worlds, the
expected outcome from the world's own knowledge, a runner and an independent checker."""

from recover.sandbox.generated.spec import KINDS, TRAITS, WorldSpec, covers, generate

__all__ = ["KINDS", "TRAITS", "WorldSpec", "covers", "generate"]
