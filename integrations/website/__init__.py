"""The tenant's website: URL and health check settings, "check now", and optional
WordPress credentials (an application password) the agents' website tools use."""
