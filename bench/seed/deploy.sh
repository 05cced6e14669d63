#!/bin/bash
# A faithful copy of the seed's scripts/deploy.sh (the one `bench/deploy` compares `deploy` against).
# Changed only so it runs here, never its logic:
#   - the compose file, image and health URL come from the environment (COMPOSE_FILE, IMAGE_REPO + COMMIT_SHA
#     → OPSKIT_IMAGE, which the compose file reads, and HEALTH_URL) instead of being written into the script;
#   - `docker pull` failures are ignored (`|| true`): there is no registry on this machine, the images are
#     built locally by scripts/services/test-images, and the original `set -e` would stop at the pull;
#   - Compose v1 (`docker-compose`), which is what this machine has (the seed used the same command).
# Kept as it was: stop everything (down), start the new version (up -d), curl the health URL up to 30 times
# one second apart, and on failure down + pull :previous + up again. Like the original, that rollback
# branch starts the same compose file with the same image reference again (the seed's compose file does
# not read a tag from the pull), so it does not really go back; it is kept as written.
set -e

COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.prod.yml}
IMAGE_REPO=${IMAGE_REPO:-memoryloop}
HEALTH_URL=${HEALTH_URL:-http://localhost:3000/api/health}
export OPSKIT_IMAGE="$IMAGE_REPO:$COMMIT_SHA"

# Pull latest image (no registry here: the image is already local, the pull's failure is ignored)
docker pull "$IMAGE_REPO:$COMMIT_SHA" >/dev/null 2>&1 || true

# Stop old container gracefully
docker-compose -f "$COMPOSE_FILE" down

# Start new container
docker-compose -f "$COMPOSE_FILE" up -d

# Wait for health check
for i in {1..30}; do
    if curl -f "$HEALTH_URL"; then
        echo "Deployment successful!"
        exit 0
    fi
    sleep 1
done

echo "Health check failed! Rolling back..."
docker-compose -f "$COMPOSE_FILE" down
docker pull "$IMAGE_REPO:previous" >/dev/null 2>&1 || true
docker-compose -f "$COMPOSE_FILE" up -d
exit 1
