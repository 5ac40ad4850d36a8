"""Reading a conversation with the lexicon: category, intent, sentiment, churn risk and confidence.

Only the customer's messages count, later ones weigh more (`recency_boost`).
Cue phrases score intents and their categories, "<number> <noun>" phrases
count as buying, sentiment words are flipped by a nearby negation and scaled
by intensifiers, and a negative mood pushes towards a complaint.
"""

from __future__ import annotations

from typing import NamedTuple

from tools.insights_lexicon import Lexicon, hits
from tools.insights_schema import Sentiment
from tools.text_signals import count_quantities, fold, split_words


class Reading(NamedTuple):
    category: str
    intent: str
    sentiment: Sentiment
    churn_risk: str
    confidence: float


HANDED_OVER_COMPLAINT = 5.0  # the dialogue handed the chat to a person as a complaint: a strong cue of its own


def classify(said: list[str], lex: Lexicon, *, handed_over_complaint: bool = False) -> Reading:
    """What the customer's messages `said` (in order) are about and how they feel.

    `handed_over_complaint`: the conversation was passed to a person because the customer complained
    (the dialogue's own reading, in words the lexicon may not know: "llevo 3 días esperando")."""
    scores: dict[str, float] = {"complaint": HANDED_OVER_COMPLAINT} if handed_over_complaint else {}
    intent_scores: dict[str, float] = {}
    complaint_hits = 1 if handed_over_complaint else 0
    sentiment = 0.0
    for idx, text in enumerate(said):
        recency = 1.0 + lex.recency_boost * (idx / max(1, len(said) - 1))
        folded = fold(text)
        words = split_words(folded)
        if lex.quantity_cue and (n := count_quantities(folded)):
            intent_scores["purchase"] = intent_scores.get("purchase", 0.0) + lex.quantity_cue * n * recency
            scores["sale"] = scores.get("sale", 0.0) + lex.quantity_cue * n * recency
        for intent, (category, cues) in lex.intents.items():
            found = hits(words, cues)
            if found:
                gained = sum(w for _, _, w in found) * recency
                intent_scores[intent] = intent_scores.get(intent, 0.0) + gained
                scores[category] = scores.get(category, 0.0) + gained
                complaint_hits += len(found) if category == "complaint" else 0
        sentiment += _sentiment_of(text, lex)
    sentiment -= lex.complaint_cue * complaint_hits
    if sentiment < 0 and lex.negative_to_complaint:
        scores["complaint"] = scores.get("complaint", 0.0) + lex.negative_to_complaint * -sentiment

    if scores:
        category = max(scores, key=lambda c: (scores[c], c == "complaint"))
        candidates = [i for i in intent_scores if i in lex.intents and lex.intents[i][0] == category]
        intent = max(candidates, key=intent_scores.__getitem__, default=category)  # "complaint": generic
    else:
        category, intent = lex.default_category, lex.default_intent
    mood: Sentiment = (
        "negative"
        if sentiment <= lex.negative_at
        else "positive"
        if sentiment >= lex.positive_at
        else "neutral"
    )
    if category == "complaint" and mood == "positive":
        mood = "neutral"  # thanking politely does not make a complaint a happy one
    if category == "complaint" and handed_over_complaint:
        mood = "negative"  # upset enough that a person had to take over, however politely put

    churn_words = sum(w for t in said for _, _, w in hits(split_words(fold(t)), lex.churn))
    churn = (
        "high"
        if churn_words or (category == "complaint" and sentiment <= 3 * lex.negative_at)
        else "medium"
        if category == "complaint" or mood == "negative"
        else "low"
    )
    return Reading(category, intent, mood, churn, _confidence(scores))


def _sentiment_of(text: str, lex: Lexicon) -> float:
    words = split_words(fold(text))
    polar = lex.positive | {p: -w for p, w in lex.negative.items()}
    starts = {i: w for i, _, w in hits(words, polar)}
    total, negated_until, boost = 0.0, -1, 1.0
    for i, word in enumerate(words):
        if i in starts:
            value = starts[i] * boost
            total += -0.8 * value if i <= negated_until else value
            boost = 1.0
        elif word in lex.intensifiers:
            boost = lex.intensifiers[word]
        else:
            boost = 1.0
        if word in lex.negations:
            negated_until = i + lex.negation_window
    total += sum(text.count(e) * v for e, v in lex.emoji.items())
    return total


def _confidence(scores: dict[str, float]) -> float:
    ranked = sorted(scores.values(), reverse=True) + [0.0, 0.0]
    top, second = ranked[0], ranked[1]
    if top <= 0:
        return 0.3
    margin, strength = (top - second) / top, min(1.0, top / 5.0)
    return round(min(0.98, 0.3 + 0.4 * margin + 0.3 * strength), 2)
