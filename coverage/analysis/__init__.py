"""Analysis: the pipeline (inputs → travel times → gaps), gaps, reach.

``from coverage import analysis`` gives the pipeline's public names
(:func:`analyse`, :func:`load_inputs`, :func:`travel_times`, :class:`Inputs`,
:class:`Analysis`, :class:`DataPaths`, :func:`ensure_data`).
"""

from coverage.analysis.pipeline import (
    Analysis,
    DataPaths,
    Inputs,
    analyse,
    check_threshold,
    ensure_data,
    load_inputs,
    travel_times,
)

__all__ = ["Analysis", "DataPaths", "Inputs", "analyse", "check_threshold", "ensure_data", "load_inputs", "travel_times"]
