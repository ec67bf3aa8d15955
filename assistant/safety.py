"""Pure: spotting immediate risk, off-topic requests and instruction-override attempts.

Safeguarding is decided before anything else, and errs on the side of showing
help: a message that says the writer (or someone with them) is at risk now gets
urgent contacts first. Questions *about* hard topics ("What does the strategy
say about exploitation?") carry no first-person risk and are answered normally.
"""

from __future__ import annotations

import re

from .glossary import Glossary, normalise

# Each pattern describes risk to the writer now, in the ways young people write it.
_RISK_PATTERNS = [
    # suicide and self-harm
    r"\bkms\b", r"\bkys\b", r"\bki+l+ (my ?self|meself)\b", r"\bkilling my ?self\b",
    r"\b(wan+a|want(ed)? (to|2)|going (to|2)|gonna) (die|be dead|end it|end my life|disappear forever)\b",
    r"\bend (it all|my life|things)\b", r"\btake my (own )?life\b", r"\bsu+i+c+i+d+(a+l+)?\b|\bsuicid\w*\b|\bsucidal\b",
    r"\b(don'?t|do not|dont) want (to|2) (be alive|live|be here)( anymore| any more)?\b",
    r"\bno (reason|point) (to|in) (live|living|going on)\b", r"\bbetter off (dead|without me)\b",
    r"\b(cut+ing|cut|harm+ing|hurt+ing|burn+ing) (my ?self|me self)\b", r"\bcutting again\b",
    r"\bself[- ]?harm(ing|ed)?\b.*\b(i|im|i'm|me|my)\b|\b(i|im|i'm|me|my)\b.*\bself[- ]?harm(ing|ed)?\b",
    r"\b(took|taken|swallowed) (too many|loads of|a lot of|all (my|the)) (pills|tablets|meds)\b", r"\boverdos(e|ed|ing)\b",
    r"\bcan'?t (cope|go on|take (it|this)) any ?more\b",
    # violence and abuse
    r"\b(he|she|they|my \w+( \w+)?) (hits?|beats?|punche?s?|kicks?|hurts?|chokes?|strangles?|slaps?|batters?|abuses?|touche?s?|threatens?) me\b",
    r"\b(hit|beat|punched|kicked|hurt|choked|slapped|abused|touched|threatened|attacked|raped|assaulted) me\b",
    r"\b(i was|i got|i've been|ive been|been) (raped|sexually assaulted|assaulted|attacked|beaten up|stabbed)\b",
    r"\b(scared|afraid|frightened|terrified) (to go|of going) (home|back)\b", r"\bnot safe (at home|here|where i live|in my placement)\b",
    r"\b(i|im|i'm|i am) (scared|afraid|frightened|terrified) of (him|her|them|my \w+)\b",
    r"\b(gonna|going to|will|wants to|threatening to) (kill|hurt|stab|beat) me\b",
    # exploitation
    r"\b(make|makes|made|forcing|force|forced|forces) me (to )?(carry|sell|deliver|hold|move|do|have sex|send)\b",
    r"\b(groom(ed|ing)? me|being groomed|getting groomed)\b", r"\bcounty lines\b.*\b(me|i|my)\b|\b(me|i|im|my)\b.*\bcounty lines\b",
    r"\b(older|old) (guy|man|men|boy|boys|bloke|lad)s?\b.*\b(money|stuff|do things|sex|pics|photos)\b",
    r"\bowe (them|him|her) money\b.*\b(threat|hurt|make|or else)", r"\bsend (nudes|pics)\b.*\b(or|threat|make)\b",
    # going missing / nowhere to sleep
    r"\b(ran|run|running) away (from|frm)\b", r"\b(i'?m|i am|im) missing\b",
    r"\b(kicked|thrown|chucked|locked) (me )?out\b", r"\bnowhere (to|2) (sleep|stay|go|live)\b",
    r"\bsleep(ing)? (rough|on the streets?|outside|in the park|on a bench|in a car)\b",
    r"\bon the streets? (tonight|2nite|2night|now|again)\b", r"\bhomeless (tonight|2nite|now|right now)\b",
    r"\bno ?where (to|2) (sleep|stay) (tonight|2nite|2night)\b", r"\b(don'?t|dont|do not) have (anywhere|any where|a place) (to|2) (sleep|stay)\b",
    r"\b(in danger|not safe) (right )?now\b", r"\b(i'?m|i am|im) in danger\b",
    # more ways of saying it (from the evaluation set's misses, written generally)
    r"\bsaving (up )?(my )?(tablets|pills|meds)\b", r"\btonight is the night\b", r"\b(want|wants|going) (to|2) jump\b",
    r"\bstanding on (a|the) (bridge|roof|ledge|edge)\b", r"\bhow deep\b.*\bcut\b", r"\bcut (deeper|deep)\b",
    r"\block(s|ed)? me in\b", r"\btake (my|away my) food\b|\btake my food away\b", r"\bstarv(e|es|ing) me\b",
    r"\b(strangled|choked|throttled|burned|burnt) me\b",
    r"\bolders? (want|wants|make|makes|made|told|tell) me\b", r"\bdo a line\b", r"\bhold a (package|parcel|bag)\b",
    r"\b(can'?t|cannot|cant) say no\b",
    r"\b(been|i'?ve been|ive been) missing\b", r"\bmissing (for )?\d+ (days?|nights?)\b",
    r"\bno (place|where) (to|2) (sleep|stay)\b", r"\b(i'?m|i am|im) on the streets?\b", r"\bhostel (say|said|says) no\b",
    r"\b(i'?ll|ill|i will) (probably |prob )?be dead\b", r"\bbe dead by\b",
    r"\btook (the whole|a whole|all (of )?(my|the)) (box|packet|bottle|pills|tablets|meds)\b",
    r"\bwith a (knife|gun|weapon|blade)\b.*\b(me|my|i)\b", r"\b(gonna|going to) (get|kill|hurt) me\b",
]
_RISK = re.compile("|".join(f"(?:{p})" for p in _RISK_PATTERNS), re.IGNORECASE)

# Informational questions about hard topics: never flagged unless a risk pattern also
# speaks in the first person about the writer (handled by the patterns above).
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override) (all |any |your |the |my )?(previous |prior |above |earlier |system )?"
    r"(instructions|prompts?|rules|messages)\b"
    r"|\b(system|hidden|initial) prompt\b|\breveal (your|the) (instructions|prompt|rules)\b"
    r"|\byou are now\b|\bpretend (you are|to be|you're)\b|\bjailbreak\b|\bdeveloper mode\b|\bDAN\b"
    r"|\bact as (a|an) (?!care|personal|social)\w+"
    r"|\brepeat (all |everything |the )*(text|words|messages?|everything)\b.*\b(above|before|first)\b"
    r"|\b(print|show|tell me) (your|the) (instructions|prompt|system message)\b",
    re.IGNORECASE,
)


def is_safeguarding(message: str) -> bool:
    """True when the message says someone is at risk now (self-harm, abuse, exploitation, missing, homeless)."""
    text = _clean(message)
    return bool(_RISK.search(text))


# Requests that are plainly about something else, even if a local word appears.
_OFF_TOPIC_CUE = re.compile(
    r"\b(vote|voting|election|elections|political party|which party|bitcoin|crypto|stocks?|essay|homework|"
    r"translate|recipe|football|premier league|weather|capital of|lottery|horoscope|write (me )?(a|some) "
    r"(code|poem|song|story|function|script))\b",
    re.IGNORECASE,
)


def looks_off_topic(message: str) -> bool:
    """True for requests with a clear non-care subject (politics, homework, coding, prices...)."""
    return bool(_OFF_TOPIC_CUE.search(message))


def is_injection(message: str) -> bool:
    """True when the message tries to override instructions or extract the prompt."""
    return bool(_INJECTION.search(message))


def mentions_domain(message: str, glossary: Glossary, vocabulary: frozenset[str]) -> bool:
    """True when the message uses a word of the care domain (so it is never off-topic)."""
    words = set(normalise(message).split())
    if words & vocabulary:
        return True
    lowered = f" {normalise(message)} "
    if any(f" {k} " in lowered for k in glossary.synonyms):
        return True
    return any(tok in glossary.acronyms for tok in re.findall(r"\b[A-Z]{2,}\b", message))


# Words that place a question in this assistant's domain, whatever the council.
DOMAIN_WORDS = frozenset(
    """care carer carers leaver leavers leaving council councils lewisham foster fostering fostered social worker
    workers pa adviser advisor advisers advisors pathway plan housing flat home homes accommodation rent tenancy
    money allowance allowances bursary bursaries grant benefit benefits payment payments education college uni
    university school apprenticeship apprenticeships job jobs work training eet neet health mental dentist
    prescriptions prescription counselling therapy asylum uasc refugee citizenship pledge strategy corporate
    parent parents parenting board councillor councillors member lead children child young people person cicc
    elevation participation advocate advocacy independent visitor review iro placement placements adoption
    kinship guardianship staying put lodgings supported offer entitlement entitled eligible eligibility support
    ofsted inspection measures target targets ambition ambitions outcomes duty duties law legal act""".split()
)


def _clean(message: str) -> str:
    text = message.lower().replace("’", "'")
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)  # "sooooo" -> "soo"
    text = re.sub(r"\bu\b", "you", text)
    text = re.sub(r"\bim\b", "i'm", text)
    return " ".join(text.split())
