"""Training: datasets that need no download or live in S3, and the seed's baseline and optimized pipelines."""
