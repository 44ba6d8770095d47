"""Machine translation: pack tokenisation (``tokenize``) and the engine router with pivoting (``router``).

Imports ``edge.errors``, ``edge.punctuation`` and ``glossary``; never the turn, the counter or sync.
"""
