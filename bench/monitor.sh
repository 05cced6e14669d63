#!/usr/bin/env bash
# A faithful copy of the seed's scripts/monitor.sh ("check application health (curl /api/health), disk usage
# (df -h), memory usage (free -m), Docker container status, output formatted report"): what bench/monitor
# compares bin/monitor against. HEALTH_URL is the app's health endpoint.
HEALTH_URL=${HEALTH_URL:-http://localhost:3000/api/health}

echo "=== Application Health ==="
if curl -fsS --max-time 10 "$HEALTH_URL"; then
    echo
    echo "✓ Application is healthy"
else
    echo "✗ Application health check failed"
fi
echo
echo "=== Disk Usage ==="
df -h
echo
echo "=== Memory Usage ==="
free -m
echo
echo "=== Docker Containers ==="
docker ps --format "table {{.Names}}\t{{.Status}}\t{{.Ports}}"
