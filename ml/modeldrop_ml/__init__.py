"""modeldrop's ML jobs, run unchanged in SageMaker containers and as local processes.

Each job module (preprocess, train, evaluate) exposes ``parse_args(argv)``, ``main(args)`` and
``run(argv) -> exit code``; ``inference`` holds the serving handlers for batch transform.
"""

__version__ = "0.1.0"
