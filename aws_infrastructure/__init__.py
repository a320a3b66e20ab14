"""The pipeline's AWS side: validated settings, idempotent provisioning, and the local Firehose delivery."""
