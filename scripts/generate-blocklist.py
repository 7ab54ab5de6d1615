#!/usr/bin/env python3
"""Generates Qila's shipped password blocklist from public facts.

Each output line is `reason<TAB>password` in lower case. The reasons are shown to the person
choosing a password, so they say why the password is guessable. Qila also applies rules in code
(repetition, sequences, a listed word padded with digits or a year), so this list holds what
rules cannot derive: keyboard walks, names of the programme and its institutions, and the
passwords attackers try first.

Run: python3 scripts/generate-blocklist.py > Sources/QilaAccess/Passwords/blocklist.txt
"""

ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "!@#$%^&*()"]

# Names of the product, the programme and institutions a guesser would try.
NAMES = [
    "qila", "qilaadmin", "qilaserver", "nccs", "ncert", "pkcert", "nca", "pta", "pecа".replace("а", "a"),
    "peca2016", "fia", "nadra", "sbp", "secp", "nepra", "ogra", "pemra", "moitt", "cybersecurity",
    "cyberdefence", "cyberdefense", "nationalcert", "pakistan", "islamabad", "karachi", "lahore",
    "rawalpindi", "peshawar", "quetta", "multan", "faisalabad", "telecom", "operator", "licensee",
    "regulator", "authority", "auditor", "investigator", "oversight", "administrator", "admin",
    "security", "firewall", "sentinel", "monitor", "incident", "warrant",
]

# Passwords tried first in every guessing attack (widely published "most common" lists).
COMMON = [
    "password", "passw0rd", "p@ssw0rd", "p@ssword", "iloveyou", "welcome", "letmein", "qwerty", "dragon",
    "monkey", "football", "cricket", "baseball", "sunshine", "princess", "master", "shadow", "superman",
    "trustno1", "starwars", "whatever", "freedom", "hello", "secret", "changeme", "default", "login",
    "access", "abc123", "pakistan123", "pakistanzindabad", "allahuakbar", "bismillah", "mashallah",
    "imrankhan", "jinnah", "quaideazam", "correcthorsebatterystaple", "thequickbrownfox",
    "thequickbrownfoxjumpsoverthelazydog", "passwordpassword", "letmeinletmein", "iloveyouiloveyou",
    "welcometoqila", "changemenow", "temporarypassword", "newpassword", "mypassword", "passwordpass",
]


def keyboard_walks():
    walks = set()
    for row in ROWS:
        for run in (row, row[::-1]):
            for start in range(len(run)):
                for end in range(start + 6, len(run) + 1):
                    walks.add(run[start:end])
    # Column walks such as 1qaz2wsx3edc4rfv.
    columns = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"]
    for start in range(len(columns)):
        for end in range(start + 2, len(columns) + 1):
            walks.add("".join(columns[start:end]))
            walks.add("".join(c[::-1] for c in columns[start:end]))
    # Row walks joined, as typed by running a finger along the keyboard.
    walks.add("qwertyuiopasdfghjkl")
    walks.add("qwertyuiopasdfghjklzxcvbnm")
    walks.add("1234567890qwertyuiop")
    walks.add("qazwsxedcrfvtgbyhnujmikolp")
    walks.add("asdfghjkl;'")
    return walks


def main():
    entries = {}

    def add(reason, word):
        word = word.lower()
        if len(word) >= 4 and word not in entries:
            entries[word] = reason

    for walk in sorted(keyboard_walks()):
        add("it is a walk along the keyboard", walk)
        add("it is a walk along the keyboard", walk + walk)
    for word in COMMON:
        add("it is among the passwords attackers try first", word)
    for name in NAMES:
        add("it is the name of this system or of an institution", name)
    for word in sorted(entries):
        print(f"{entries[word]}\t{word}")


if __name__ == "__main__":
    main()
