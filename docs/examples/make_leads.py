"""How docs/examples/leads.csv was made (deterministic): `python docs/examples/make_leads.py > docs/examples/leads.csv`.

A CRM export of 1,200 past trial sign-ups with their outcome and 80 recent ones still open
(empty "Converted"), as a sales team keeps it: "Select" where nobody chose, a long tail of
rare lead sources, an end-of-trial counter (Total Visits) and a column sales fill in after
the trial (Lead Quality), which gives the outcome away. Only the standard library.
"""
import csv
import math
import random
import sys
from datetime import date, timedelta

rnd = random.Random(14)
SOURCES = [("Google", 0.30, 0.0), ("Direct Traffic", 0.22, 0.0), ("Olark Chat", 0.14, -0.9),
           ("Organic Search", 0.12, 0.3), ("Reference", 0.07, 1.4), ("Facebook", 0.05, -0.5),
           ("Referral Sites", 0.02, 0.0), ("Select", 0.06, -0.2)]
PARTNERS = ["Partner: " + p for p in ("Allegro Meetup", "Trendyol Webinar", "Bazar Kraków", "Etsy Forum",
                                      "Shopify Switchers", "Instagram Live", "Local Chamber", "Podcast Ad",
                                      "YouTube Review", "Newsletter Swap", "Trade Fair Poznań", "İzmir Expo",
                                      "Blog Guest Post", "University Talk", "Agency Wrocław", "Ankara Meetup")]
TYPES = [("Fashion", 0.25, 0.2), ("Electronics", 0.15, -0.2), ("Handmade", 0.15, 0.4), ("Food & Drink", 0.12, 0.0),
         ("Books", 0.08, -0.3), ("Beauty", 0.10, 0.1), ("Select", 0.15, -0.4)]


def pick(options):
    r, acc = rnd.random(), 0.0
    for name, w, effect in options:
        acc += w
        if r < acc:
            return name, effect
    return options[-1][0], options[-1][2]


def main() -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["Lead Number", "Lead Date", "Country", "Lead Source", "Business Type", "Products at Signup",
                "Own Domain", "Total Visits", "Lead Quality", "Converted"])
    for i in range(1280):
        open_trial = i >= 1200
        start = (date(2026, 9, 15) + timedelta(days=(i - 1200) // 2) if open_trial
                 else date(2025, 1, 6) + timedelta(days=int(i * 340 / 1200)))
        country = "PL" if rnd.random() < 0.6 else "TR"
        if rnd.random() < 0.03:
            source, s_eff = rnd.choice(PARTNERS), 0.2
        else:
            source, s_eff = pick(SOURCES)
        btype, t_eff = pick(TYPES)
        products = int(math.exp(rnd.gauss(2.0, 1.1))) if rnd.random() < 0.85 else 0
        domain = rnd.random() < 0.35
        z = -1.6 + s_eff + t_eff + 0.35 * math.log1p(products) + 0.7 * domain + rnd.gauss(0, 0.6)
        converted = rnd.random() < 1 / (1 + math.exp(-z))
        visits = max(1, int(rnd.gauss(9 if converted else 5, 3)))
        if open_trial:
            quality, outcome, visits = "", "", max(1, visits // 3)
        else:
            if converted:
                quality = rnd.choices(["High in Relevance", "Might be", ""], [0.72, 0.22, 0.06])[0]
            else:
                quality = rnd.choices(["Worst", "Low in Relevance", "Not Sure", "Might be", ""],
                                      [0.30, 0.30, 0.28, 0.04, 0.08])[0]
            outcome = "1" if converted else "0"
        w.writerow([f"LD-{660000 + i * 7}", start.isoformat(), country, source, btype, products,
                    "Yes" if domain else "No", visits, quality, outcome])


if __name__ == "__main__":
    main()
