"""The owner's side: admin API, dashboard and the auth around them."""
