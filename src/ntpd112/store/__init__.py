"""PostgreSQL: models, repositories, and the journal that writes call records without blocking call handling."""
