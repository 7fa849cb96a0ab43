"""The version of the distribution, in a module of its own: any module may name it without
importing the package's public face (which loads the app)."""

__version__ = "0.1.0"
