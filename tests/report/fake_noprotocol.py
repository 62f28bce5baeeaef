"""A stage module without the what-if protocol."""


def build_stage(spec, cfg):  # noqa: ANN001, ANN201 - placeholder
    raise NotImplementedError
