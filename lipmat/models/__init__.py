"""Constitutive models: strain -> stress in Mandel form, each with ``stiffness_bound()``."""

__all__: list[str] = []
