"""Web server, load balancer and CDN logs: access and error logs normalized to ECS (docs/web-logs.md)."""
