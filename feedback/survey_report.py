"""The survey report's arithmetic (PRODUCT.md §8), pure: no database, no Django.

Means come in as exact fractions (sum / count), so a gap of exactly 0.5 or 1 falls on
the side of the boundary the product defines, not on a float rounding.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

# Mirror gap categories, d = prediction − the other side's rating.
AGREED_STRENGTH = "agreed_strength"
AGREED_WEAKNESS = "agreed_weakness"
ALIGNED = "aligned"
SLIGHTLY_MISALIGNED = "slightly_misaligned"
BLIND_SPOT = "blind_spot"
HIDDEN_STRENGTH = "hidden_strength"
CATEGORY_LABELS = {
    AGREED_STRENGTH: "Aligned: an agreed strength",
    AGREED_WEAKNESS: "Aligned: an agreed weakness",
    ALIGNED: "Aligned",
    SLIGHTLY_MISALIGNED: "Slightly misaligned",
    BLIND_SPOT: "Blind spot",
    HIDDEN_STRENGTH: "Hidden strength",
}

# rNPS: promoters answer 9–10, detractors 0–6, passives 7–8.
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
# rNPS: under this many answers the interval is wide and the figure is flagged.
SMALL_SAMPLE = 10
# Two-sided 90% interval of the normal distribution.
Z_90 = 1.6448536269514722


def statement_label(field: str) -> str:
    """A statement's short name ("deliver_promises" → "Deliver promises")."""
    return field.replace("_", " ").capitalize()


@dataclass(frozen=True)
class MirrorGap:
    rating: Fraction  # how the other side rated us
    prediction: Fraction  # how we predicted they would
    gap: Fraction  # prediction − rating
    category: str

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.category]


def mirror_gap(*, rating: Fraction, prediction: Fraction) -> MirrorGap:
    """d = prediction − rating: aligned |d| < 0.5 (an agreed strength at a rating of 4 or
    more, an agreed weakness under 3), slightly misaligned 0.5 ≤ |d| < 1, a blind spot
    d ≥ 1 (we think better of ourselves than they do), a hidden strength d ≤ −1."""
    gap = prediction - rating
    if gap >= 1:
        category = BLIND_SPOT
    elif gap <= -1:
        category = HIDDEN_STRENGTH
    elif abs(gap) >= Fraction(1, 2):
        category = SLIGHTLY_MISALIGNED
    elif rating >= 4:
        category = AGREED_STRENGTH
    elif rating < 3:
        category = AGREED_WEAKNESS
    else:
        category = ALIGNED
    return MirrorGap(rating=rating, prediction=prediction, gap=gap, category=category)


def mirror_gap_of_sums(predicted: int, predictions: int, rated: int, ratings: int) -> MirrorGap:
    """mirror_gap from a side's predictions (their sum and count) and the other side's
    ratings (their sum and count), as the survey stores and publishes them."""
    return mirror_gap(rating=Fraction(rated, ratings), prediction=Fraction(predicted, predictions))


@dataclass(frozen=True)
class Rnps:
    promoters: int  # 9–10
    passives: int  # 7–8
    detractors: int  # 0–6
    score: float  # % promoters − % detractors, −100..100
    low: float  # the 90% confidence interval, clipped to −100..100
    high: float

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def small_sample(self) -> bool:
        return self.answers < SMALL_SAMPLE


def rnps(promoters: int, passives: int, detractors: int) -> Rnps | None:
    """Relationship NPS of counted 0–10 answers with its 90% interval (normal approximation:
    the variance of a promoter (+1) / passive (0) / detractor (−1) answer is
    p + q − (p − q)², p and q the shares of promoters and detractors); None without answers.
    """
    count = promoters + passives + detractors
    if not count:
        return None
    p, q = promoters / count, detractors / count
    margin = Z_90 * math.sqrt((p + q - (p - q) ** 2) / count)
    return Rnps(
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        score=100 * (p - q),
        low=max(-100.0, 100 * (p - q - margin)),
        high=min(100.0, 100 * (p - q + margin)),
    )


def distribution(answers: list[int], scale=range(1, 6)) -> list[int]:
    """How many answered each point of the scale, in scale order."""
    return [sum(1 for answer in answers if answer == point) for point in scale]
