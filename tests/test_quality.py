"""Answer quality gates on our own dev sets: floors against regressions at today's level.

The sets were written to probe, most of them by helpers who never saw `knowledge/`; each
was measured once before anything was tuned for it (the README lists those fresh figures,
the honest estimate for unseen questions). Later figures flatter, so these floors are
regression guards, not quality claims.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.evaluation import Case, evaluate, load_cases
from bot.answering.service import AnswerService

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("name", "on_topic", "one_tap", "off_topic"),
    [
        ("dev_questions.jsonl", 0.93, 0.93, 0.85),
        ("dev2_questions.jsonl", 0.90, 0.93, 0.85),
        ("dev3_questions.jsonl", 0.88, 0.90, 0.85),
        ("dev4_questions.jsonl", 0.88, 0.90, 0.85),
        # mixed German and English: fresh 76.7 %
        ("dev5_questions.jsonl", 0.85, 0.85, 0.85),
        # long, chatty questions: fresh 60.0 %
        ("dev6_questions.jsonl", 0.85, 0.90, 0.85),
        # written after the fixes for dev4 to dev6: fresh 80.0 %
        ("dev7_questions.jsonl", 0.85, 0.90, 0.85),
        # real web style, by a helper who never saw knowledge/: fresh 28.6 %
        ("dev8_questions.jsonl", 0.75, 0.88, 0.85),
        # phone-typed by a sales person, same: fresh 68.6 %
        ("dev9_questions.jsonl", 0.90, 0.95, 0.85),
        # mixed real styles, same, written after the engine work: fresh 73.3 %
        ("dev10_questions.jsonl", 0.75, 0.85, 0.85),
        # the same once more, on the final engine: fresh 76.7 %
        ("dev11_questions.jsonl", 0.73, 0.85, 0.85),
        # helper-written real styles, article only: fresh 72.5 / 77.5 / 92.5 / 85.0 / 80.6 %
        ("dev12_questions.jsonl", 0.85, 0.90, 0.90),
        ("dev13_questions.jsonl", 0.75, 0.90, 0.78),
        ("dev14_questions.jsonl", 0.90, 0.93, 0.90),
        ("dev15_questions.jsonl", 0.80, 0.93, 0.95),
        ("dev16_questions.jsonl", 0.75, 0.85, 0.93),
        # questions quoted from web pages: fresh 60.0 / 50.0 %
        ("dev17_questions.jsonl", 0.65, 0.80, 0.70),
        ("dev18_questions.jsonl", 0.50, 0.80, 0.72),
        # phone-typed: fresh 83.3 %
        ("dev20_questions.jsonl", 0.83, 0.90, 0.93),
        # phone-typed and dictated, forwarded, long polite: fresh 80.9 / 89.4 / 94.6 %
        ("dev21_questions.jsonl", 0.80, 0.87, 0.92),
        # long stories and forum posts, measured once on the final engine: fresh 88.2 %
        ("dev22_questions.jsonl", 0.85, 0.93, 0.95),
        # phone-typed between appointments, measured once on 0ee9c5a: fresh 93.1 / 100 / 100 %
        ("dev24_questions.jsonl", 0.89, 0.96, 0.95),
        # forum, reddit, community, blog-comment, trainer and Quora styles, measured once on
        # 581f4f2: fresh 86.2 / 96.6 / 100 %
        ("dev25_questions.jsonl", 0.82, 0.93, 0.95),
        # real questions from stored web pages, with sources, measured once on 094d00e:
        # fresh 61.5 / 61.5 / 70.6 %
        ("dev26_questions.jsonl", 0.53, 0.53, 0.70),
        # Swiss, Austrian, expats in English, seniors, Gen Z; measured once on d013fab:
        # fresh 78.6 / 96.4 / 100 %
        ("dev27_questions.jsonl", 0.75, 0.92, 0.95),
        # forum titles, stories, the reader asked as an expert, third person, phone, odd
        # words; half off-topic near misses; measured once on a4990ae: fresh 78.6 / 92.9 / 75.0 %
        ("dev28_questions.jsonl", 0.75, 0.89, 0.71),
        # gutefrage titles, dictated, team leads, newcomers, sceptics, bilingual; half
        # off-topic; measured once on 3644546: fresh 80.0 / 83.3 / 86.2 %
        ("dev29_questions.jsonl", 0.76, 0.80, 0.82),
        # real questions from stored web pages no other set used, with sources; measured
        # once on 1b4e12d: fresh 58.3 / 66.7 / 85.0 % (acc4f6e: the same)
        ("dev30_questions.jsonl", 0.50, 0.58, 0.80),
        # more real web questions, a third of them typed by readers and forum users, with
        # sources; measured once on cc58a7d: fresh 40.0 / 73.3 / 81.2 % (acc4f6e: 40.0 / 86.7)
        ("dev31_questions.jsonl", 0.33, 0.66, 0.75),
        # real web questions from 45 more stored pages (blog and FAQ headings, forum posts,
        # reader letters), with sources; measured once on 1b8d9e0: fresh 53.3 / 73.3 / 73.9 %
        # (a3536e9: the same)
        ("dev32_questions.jsonl", 0.46, 0.66, 0.69),
        # phone-typed between appointments (typos, dialect, Denglisch, dictation slips); half
        # off-topic; measured once on f3a9719: fresh 89.3 / 96.4 / 100 % (a3536e9: the same)
        ("dev33_questions.jsonl", 0.82, 0.92, 0.95),
        # real web questions from 41 more stored pages (headings, help pages, reader letters,
        # agony-aunt columns), with sources; measured once on c6ba401: fresh 44.4 / 77.8 / 77.3 %
        # (a3536e9: the same)
        ("dev34_questions.jsonl", 0.38, 0.72, 0.72),
        # phone-typed between appointments (abbreviations, dictation slips, third person,
        # short stories); 24 off-topic near misses; measured once on aefe835: fresh
        # 86.7 / 96.7 / 100 % (0ea0046: the same)
        ("dev36_questions.jsonl", 0.80, 0.93, 0.95),
        # real web questions from 52 more stored pages (blog posts quoting readers and
        # clients, trainers' FAQs, GitHub issues on the platforms' APIs), with sources; most
        # are long stories; measured once on 25ebffd: fresh 20.0 / 65.0 / 82.1 % (6ab75da: the
        # same; 0ea0046, before the long-message rule: 20.0 / 65.0 / 89.3 %)
        ("dev35_questions.jsonl", 0.15, 0.55, 0.75),
        # real web questions from 53 more stored pages (reader letters, trainers' and
        # journalists' questions, article headings), with sources; 24 off-topic near misses;
        # measured once on 4eb1d08: fresh 57.7 / 69.2 / 87.5 %
        ("dev37_questions.jsonl", 0.50, 0.61, 0.79),
        # phone-typed between appointments (typos, abbreviations, Denglisch, dialect,
        # dictation slips, third person); 28 off-topic near misses; measured once on
        # 8272932: fresh 87.5 / 93.8 / 96.4 % (the round's first engine 4eb1d08: the same)
        ("dev38_questions.jsonl", 0.81, 0.87, 0.89),
        # real web questions from 51 more stored pages (reader letters, advice columns,
        # personal blog posts, article headings), with sources; 30 off-topic near misses;
        # measured once on 339afe8: fresh 38.5 / 53.8 / 70.0 % (4eb1d08: the same)
        ("dev39_questions.jsonl", 0.23, 0.38, 0.63),
        # real web questions from 49 more stored pages (advice columns, reader letters, blog
        # posts, GitHub issues on unofficial APIs, journalists' questions), with sources; 33
        # off-topic near misses; measured once on a676226: fresh 40.0 / 70.0 / 72.7 %
        ("dev40_questions.jsonl", 0.3, 0.6, 0.66),
        # phone-typed (greetings, slang, missing umlauts, third person, the bot asked as an
        # expert, stories first); 30 off-topic near misses in the same words; measured once
        # on a676226: fresh 96.7 / 96.7 / 93.3 %
        ("dev41_questions.jsonl", 0.9, 0.9, 0.86),
        # real German web questions from 40 more stored pages (interviews, blog and forum
        # posts), with sources; 23 off-topic; measured once on 8441e12: fresh 33.3 / 61.1 / 69.6 %
        ("dev42_questions.jsonl", 0.27, 0.55, 0.64),
        # real English web questions from 45 more stored pages (trainers' blogs, advice
        # columns, FAQ headings), with sources; 23 off-topic; measured once on 8441e12:
        # fresh 63.6 / 68.2 / 82.6 %
        ("dev43_questions.jsonl", 0.59, 0.63, 0.78),
        # real web questions from 27 more stored pages (help-page and FAQ headings, blog
        # posts, a forum reply), mostly English, with sources; 11 off-topic; measured once
        # on 0b3e86e: fresh 76.5 / 88.2 / 81.8 % (the session's first engine 8a105e6: the same)
        ("dev44_questions.jsonl", 0.70, 0.82, 0.72),
        # real web questions from 36 more stored pages (FAQ and blog headings, forum and
        # help-page questions), mostly English, with sources; 22 off-topic; measured once
        # on 93349b7, before anything was changed for it: fresh 53.3 / 66.7 / 86.4 %
        ("dev45_questions.jsonl", 0.46, 0.6, 0.77),
        # real web questions from 34 more stored pages (blog and FAQ headings, forum posts,
        # advice columns), mostly English, with sources; 21 off-topic; measured once on
        # 1347b63 and on 93349b7 before anything was changed for it: fresh 47.1 / 64.7 / 66.7 %
        ("dev46_questions.jsonl", 0.41, 0.58, 0.61),
        # real web questions from 30 more stored pages (help-page and FAQ headings, blog
        # posts, a GitHub issue), mostly English, with sources; 17 off-topic; measured once
        # on 7825d18, while the round's changes were made: fresh 57.9 / 78.9 / 76.5 %
        ("dev47_questions.jsonl", 0.52, 0.73, 0.76),
        # phone-typed by many personas (typos, Denglisch, dictation, emojis, two questions
        # in one); 29 off-topic in the same words; measured once on dab58ea: fresh 93.3 /
        # 96.7 / 100 % (the round's first engine 032643a: the same)
        ("dev48_questions.jsonl", 0.86, 0.9, 0.93),
        # real web questions from 18 more stored pages (FAQ headings, forum posts, GitHub
        # issues), with sources; 14 off-topic; measured once on 1461148: fresh 75.0 / 75.0 /
        # 100 % (032643a: the same)
        ("dev49_questions.jsonl", 0.5, 0.5, 0.85),
        # phone messages: dictated by voice, thumb-typed, stories first, English from expats,
        # forwarded; 30 off-topic in the same words; measured once on 361fc37: fresh 75.9 /
        # 86.2 / 93.3 %
        ("dev50_questions.jsonl", 0.7, 0.8, 0.86),
        # phone messages: dictated, thumb-typed, stories first, English, dialect, formal,
        # forwarded, pasted notifications; 30 off-topic in the same words; measured once on
        # 8fe3fc9: fresh 82.8 / 93.1 / 100 % (361fc37: the same)
        ("dev51_questions.jsonl", 0.76, 0.86, 0.93),
        # phone messages by 60 invented personas (terse, formal, annoyed, dictated, dialect,
        # English, pasted notifications); 29 off-topic in the same words; measured once on
        # aa6f673: fresh 86.7 / 96.7 / 96.6 % (361fc37: 86.7 / 93.3 / 96.6)
        ("dev52_questions.jsonl", 0.8, 0.9, 0.9),
        # phone messages in Denglisch, by non-native speakers, with typing accidents, as
        # keywords only, with the question in the middle, as follow-ups; 29 off-topic in the
        # same words; measured once on 5a3d95e: fresh 78.6 / 92.9 / 93.1 %
        ("dev53_questions.jsonl", 0.72, 0.86, 0.86),
        # phone messages by personas: over 55 and formal, students with slang, hurried sales
        # shorthand, two questions at once, quoted notifications, international colleagues;
        # 29 off-topic; measured once on 5a3d95e: fresh 70.0 / 83.3 / 86.2 %
        ("dev54_questions.jsonl", 0.63, 0.76, 0.8),
        # phone messages that start from a situation (a trade fair, a job change, a
        # colleague's advice, an awkward request, for a boss, a rant); 30 off-topic;
        # measured once on 5a3d95e: fresh 72.4 / 96.6 / 90.0 %
        ("dev55_questions.jsonl", 0.65, 0.9, 0.83),
    ],
)
def test_dev_sets_do_not_slip(
    service: AnswerService, name: str, on_topic: float, one_tap: float, off_topic: float
) -> None:
    report = evaluate(service, load_cases(DATA / name))
    misses = [(m.q, m.outcome, m.matched) for m in report.misses]
    assert report.accuracy >= on_topic, misses
    assert report.one_tap_rate >= one_tap, misses
    assert report.decline_rate >= off_topic, misses
    assert report.language_correct >= report.language_labelled - 1


def test_eval_counts_a_wrong_answer_that_links_to_the_right_entry(
    service: AnswerService,
) -> None:
    # A phrasing of li-react, whose answer links to li-ignore: judged by li-ignore's title,
    # the answer is wrong, and the right entry is one of its buttons.
    asked = "Wie reagiere ich auf eine LinkedIn-Einladung?"
    answer = service.ask(asked)
    assert answer.match is not None and answer.match.entry.id == "li-react"
    linked = Case(q=asked, expect_any=["Kennen Sie diese Person"])
    unlinked = Case(q=asked, expect_any=["Kontakte im zweiten Grad"])
    right = Case(q=asked, expect_any=["Auf Einladungen reagieren"])
    report = evaluate(service, [linked, unlinked, right])
    assert (report.correct, report.one_tap, report.linked) == (1, 1, 1)
    assert "the right entry among the answer's buttons: 1" in report.to_text()
