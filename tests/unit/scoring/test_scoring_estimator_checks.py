"""scikit-learn's own conformance checks for every estimator class we wrote."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from concierge.scoring.estimators import BoostedBag, ConversionModel, FallbackModel, UpliftModel


@parametrize_with_checks([
    ConversionModel(max_iter=20, random_state=0),
    ConversionModel(max_iter=20, bag=2, random_state=0),  # a bag of boosted models, calibrated
    BoostedBag(bag=2, max_iter=20, random_state=0),
    FallbackModel(),
    UpliftModel(max_iter=20, response_max_iter=20, random_state=0),
    UpliftModel(max_iter=20, response_max_iter=0, random_state=0),  # the two arms only
])
def test_sklearn_conventions(estimator, check):
    check(estimator)
