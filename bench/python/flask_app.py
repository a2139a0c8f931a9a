"""A small Flask JSON route, the same for every server the benchmark runs."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/json")
def hello() -> object:
    return jsonify(message="Hello, World!", ok=True)
