"""The tenant-scoped REST API of the agent control plane (mounted under /api/v1/)."""
