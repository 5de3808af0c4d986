"""modeldrop's ML jobs, run unchanged in SageMaker containers and as local processes.

Each job module (preprocess, train, evaluate) exposes ``parse_args(argv)``, ``main(args)`` and
``run(argv) -> exit code``; ``inference`` holds the serving handlers for batch transform, which
``batch_transform`` runs locally as SageMaker's serving container does. Beyond that, no job
imports another: what they share lives in the library modules, and the saved model's name,
unpacking and loading in ``artifact``.
"""

__version__ = "0.1.0"
