"""Machine translation: pack tokenisation (``tokenize``) and the engine router with pivoting (``router``).

Imports ``edge.errors`` and ``glossary``; never the turn, the counter or sync.
"""
