"""What the tests share: the repository's data, model packs, servers, browsers, tiny models and the guard.

Each concern has one module here; test modules import from them (``from tests.support.servers import ...``).
"""
