"""The SageMaker runner's container side: the training entry point and the source bundle it ships in."""
