"""Agency tickets (pure domain): the status flow of a ticket and who may move it."""
