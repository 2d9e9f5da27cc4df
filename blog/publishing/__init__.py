"""Publishing: posts/ synced into the database by content hash, and when the sync runs."""
