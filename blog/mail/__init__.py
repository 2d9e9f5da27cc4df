"""Mail: an outbox in the database, a sender with retries, subscriptions and notifications."""
