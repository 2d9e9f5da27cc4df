"""Comments: the service holds every rule, the views stay thin."""
