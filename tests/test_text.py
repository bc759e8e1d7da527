"""Normalisation: what a phone-typed question is reduced to."""

from bot.answering.service import AnswerService
from bot.text import fold, stem, words


def test_fold_spells_out_umlauts_and_sharp_s() -> None:
    assert fold("Für Größe ÄÖÜ") == "fuer groesse aeoeue"


def test_typed_ae_and_real_umlaut_meet() -> None:
    assert fold("fuer") == fold("für")


def test_fold_drops_punctuation_and_accents() -> None:
    assert fold("  Café!!! <b>LinkedIn</b>-Notiz?? ") == "cafe b linkedin b notiz"


def test_email_spellings_become_one_word() -> None:
    assert {fold(t) for t in ("E-Mail", "e mail", "Email", "eMails")} == {"email"}


def test_words_drop_single_letters_but_keep_digits() -> None:
    assert words("invitee's 3 x Grad") == ["invitee", "3", "grad"]


def test_stem_meets_plural_and_verb_forms() -> None:
    assert stem("anfragen") == stem("anfrage")
    assert stem("vernetzung") == stem("vernetzen")
    assert stem("kontakte") == "kontakt"


def test_stem_keeps_short_words_and_numbers() -> None:
    assert stem("ende") == "ende"
    assert stem("300") == "300"


def test_fold_of_emoji_and_foreign_script_is_empty() -> None:
    assert fold("😀🙏") == ""
    assert words("مرحبا שלום") == []


def test_contractions_leave_no_stray_fragments_whatever_the_apostrophe() -> None:
    # Web pages type ’ where phones type ': both spell out the same words.
    assert words("I don’t know them") == words("I don't know them") == ["do", "not", "know", "them"]
    assert words("you’re, I’ve, I'll, I'd, I'm") == ["you"]
    assert words("won't can’t shan't isn`t") == [
        "will",
        "not",
        "can",
        "not",
        "shall",
        "not",
        "is",
        "not",
    ]
    assert words("LinkedIn’s limit, XING's groups, gibt´s das?") == [
        "linkedin",
        "limit",
        "xing",
        "groups",
        "gibt",
        "das",
    ]
    # an apostrophe that is no contraction still separates words
    assert words("'Kontakt hinzufügen'") == ["kontakt", "hinzufuegen"]


def test_how_many_becomes_one_word_in_both_languages() -> None:
    assert fold("Wie viele Einladungen? wie vielen Leuten, wie viel") == (
        "wieviele einladungen wieviele leuten wieviele"
    )
    assert fold("How many invites, how much") == "howmany invites howmany"


def test_how_long_before_a_verb_of_time_asks_for_a_duration_not_a_length() -> None:
    assert fold("How long does the restriction last?") == "howlong does the restriction last"
    assert fold("how long until I can invite again") == "howlong until i can invite again"
    assert fold("How long can the note be?") == "how long can the note be"
    assert fold("wie lang dauert das") == "wie lange dauert das"
    assert fold("Wie lang darf die Notiz sein?") == "wie lang darf die notiz sein"


def test_duration_words_meet_and_length_words_stay_apart(service: AnswerService) -> None:
    analyzer = service.matcher.analyzer
    duration = {"wie lange dauert die sperre", "how long does the restriction last"}
    assert all("dauer" in analyzer.terms(q) for q in duration)
    assert "dauer" not in analyzer.terms("wie lang darf die notiz sein")
    assert "dauer" not in analyzer.terms("LinkedIn zeigt mir dauernd Leute an")


def test_who_opening_a_sentence_asks_for_people_a_relative_who_does_not() -> None:
    assert fold("Who should I add first?") == "whom should i add first"
    assert fold("Thanks. So who do I start with?") == "thanks so whom do i start with"
    assert fold("I ignore people who spam") == "i ignore people who spam"
    # "who to ..." asks anywhere in a sentence
    assert fold("how do I decide who to connect with") == "how do i decide whom to connect with"
    assert fold("people who took my advice") == "people who took my advice"


def test_dictated_hundreds_become_figures() -> None:
    assert fold("dreihundert Zeichen") == "300 zeichen"
    assert fold("hundertzwanzig Anfragen") == "120 anfragen"
    assert fold("zweihundertfünfundsiebzig") == "275"
    assert fold("Einhundert") == "100"
    # words that only contain "hundert" stay words
    assert fold("Hunderte Anfragen, hundertprozentig, Jahrhundert") == (
        "hunderte anfragen hundertprozentig jahrhundert"
    )


def test_dictated_platform_names_become_the_platforms() -> None:
    assert fold("Linkt in will die Mailadresse") == "linkedin will die mailadresse"
    assert fold("kann ich bei link din eine notiz") == "kann ich bei linkedin eine notiz"
    assert fold("wenn ich bei X-ing ablehne") == "wenn ich bei xing ablehne"
    assert fold("bei links in verschickt") == "bei linkedin verschickt"
    assert fold("gibt es bei Sing noch Gruppen") == "gibt es bei xing noch gruppen"
    assert fold("mein Sing Profil") == "mein xing profil"


def test_everyday_words_that_sound_like_a_platform_stay_words() -> None:
    assert fold("den Link in der Mail") == "den link in der mail"
    assert fold("oben links in der Ecke") == "oben links in der ecke"
    assert fold("sing along") == "sing along"


def test_dictated_inmail_is_linkedins_inmail_not_an_email() -> None:
    assert (
        fold("Was kostet so eine In-Mail bei LinkedIn?") == "was kostet so eine inmail bei linkedin"
    )
    assert fold("in mails") == "inmail"
    assert fold("steht in der Mail") == "steht in der mail"
