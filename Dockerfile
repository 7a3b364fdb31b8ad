FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY notifier ./notifier
COPY channels ./channels
COPY templates ./templates
# Compiled now: the containers run on a read-only root filesystem.
RUN pip install --no-cache-dir -e . \
    && python -m compileall -q notifier channels
# Not root: a user of its own, which owns only the data directory.
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin notifier \
    && mkdir /data && chown notifier:notifier /data
USER notifier
ENV NOTIFIER_HOST=0.0.0.0 NOTIFIER_TEMPLATE_DIR=/app/templates NOTIFIER_DATA_DIR=/data \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000
CMD ["notifier", "api"]
