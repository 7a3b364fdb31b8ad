FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY notifier ./notifier
COPY channels ./channels
COPY templates ./templates
RUN pip install --no-cache-dir -e .
ENV NOTIFIER_HOST=0.0.0.0 NOTIFIER_TEMPLATE_DIR=/app/templates
EXPOSE 8000
CMD ["notifier", "api"]
