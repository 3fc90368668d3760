"""The survey report's arithmetic (PRODUCT.md §8), computed by hand at every boundary."""

from fractions import Fraction as F

import pytest

from feedback.survey_report import (
    AGREED_STRENGTH,
    AGREED_WEAKNESS,
    ALIGNED,
    BLIND_SPOT,
    HIDDEN_STRENGTH,
    SLIGHTLY_MISALIGNED,
    distribution,
    mirror_gap,
    rnps,
)


@pytest.mark.parametrize(
    ("prediction", "rating", "gap", "category"),
    [
        # |d| < 0.5: aligned; a strength from a rating of 4, a weakness under 3.
        (F(4), F(4), F(0), AGREED_STRENGTH),
        (F(449, 100), F(4), F(49, 100), AGREED_STRENGTH),
        (F(31, 10), F(35, 10), F(-2, 5), ALIGNED),
        (F(3), F(3), F(0), ALIGNED),
        (F(3), F(299, 100), F(1, 100), AGREED_WEAKNESS),
        (F(2), F(2), F(0), AGREED_WEAKNESS),
        # |d| = 0.5 exactly: slightly misaligned, either way, even at a rating of 4.
        (F(9, 2), F(4), F(1, 2), SLIGHTLY_MISALIGNED),
        (F(7, 2), F(4), F(-1, 2), SLIGHTLY_MISALIGNED),
        (F(99, 100) + 3, F(3), F(99, 100), SLIGHTLY_MISALIGNED),
        (F(3), F(399, 100), F(-99, 100), SLIGHTLY_MISALIGNED),
        # d = 1: a blind spot; d = -1: a hidden strength.
        (F(4), F(3), F(1), BLIND_SPOT),
        (F(5), F(2), F(3), BLIND_SPOT),
        (F(3), F(4), F(-1), HIDDEN_STRENGTH),
        (F(1), F(5), F(-4), HIDDEN_STRENGTH),
        # Means of three answers: (4+4+5)/3 predicted against (3+3+4)/3 rated: d = 1.
        (F(13, 3), F(10, 3), F(1), BLIND_SPOT),
    ],
)
def test_mirror_gap_and_category(prediction, rating, gap, category):
    result = mirror_gap(rating=rating, prediction=prediction)
    assert result.gap == gap
    assert result.category == category


def test_category_labels_read_as_the_product_names_them():
    assert mirror_gap(rating=F(3), prediction=F(4)).label == "Blind spot"
    assert mirror_gap(rating=F(4), prediction=F(3)).label == "Hidden strength"
    assert mirror_gap(rating=F(4), prediction=F(4)).label == "Aligned: an agreed strength"


def test_rnps_of_5_promoters_3_passives_2_detractors():
    # 50% − 20% = 30; variance (0.5 + 0.2 − 0.3²) / 10 = 0.061, sd 0.24698;
    # 90%: ± 1.64485 × 0.24698 = ± 0.40625, so 30 ± 40.62.
    result = rnps(5, 3, 2)
    assert (result.promoters, result.passives, result.detractors) == (5, 3, 2)
    assert result.score == pytest.approx(30)
    assert result.low == pytest.approx(-10.6248, abs=1e-3)
    assert result.high == pytest.approx(70.6248, abs=1e-3)
    assert result.small_sample is False  # exactly 10 answers


def test_rnps_small_sample_under_10_answers_and_interval_clipped():
    result = rnps(8, 0, 1)
    assert result.small_sample is True
    # 8/9 − 1/9 = 77.8; variance (1 − (7/9)²)/9 = 0.04389, sd 0.2095, margin 34.46.
    assert result.score == pytest.approx(700 / 9)
    assert result.low == pytest.approx(43.31, abs=0.01)
    assert result.high == 100  # 112.2 clipped


def test_rnps_of_unanimous_answers_has_no_spread_and_none_without_answers():
    everyone = rnps(12, 0, 0)
    assert (everyone.score, everyone.low, everyone.high) == (100, 100, 100)
    nobody_recommends = rnps(0, 0, 3)
    assert (nobody_recommends.score, nobody_recommends.low) == (-100, -100)
    assert rnps(0, 0, 0) is None


def test_passives_count_in_the_base_only():
    result = rnps(1, 2, 1)
    assert result.score == 0 and result.answers == 4


def test_distribution_counts_each_point_of_the_scale():
    assert distribution([1, 5, 5, 3]) == [1, 0, 1, 0, 2]
