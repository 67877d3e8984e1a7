"""cdk_bootstrap_deleted: TODO."""

from recover.sandbox.world import World


def seed(world: World) -> None:
    raise NotImplementedError
