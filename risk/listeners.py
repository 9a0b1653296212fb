"""Hook listeners: re-assess after a write; raise a symptom flag in the writer's transaction."""
