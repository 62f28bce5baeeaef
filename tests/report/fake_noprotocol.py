"""A stage module without the what-if protocol."""


def build_stage(spec, cfg):
    raise NotImplementedError
