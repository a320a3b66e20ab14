"""The pipeline's AWS resources, each able to say how it differs from the config and to converge or go away."""
