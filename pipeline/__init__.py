"""treem: the Children's Action Programme reporting pipeline."""

__version__ = "0.1.0"


def open_workspace(root="."):
    """Every year's figures of the workspace folder `root` as pandas DataFrames (see
    pipeline.analysis.api). pandas is imported on this call, not with the package: the commands of
    the annual cycle never need it."""
    from pipeline.analysis.api import open_workspace as _open

    return _open(root)
