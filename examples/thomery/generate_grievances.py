#!/usr/bin/env python3
"""Records a year of realistic grievances (doléances) for Thomery through the voisinage CLI.

Every grievance and every step of its history goes through `voisinage grievance add|status|respond|assign|
merge`, so the product validates all of it. The data is planned first from a fixed seed (same seed and same
--end: same grievances, texts, places, dates and histories), then replayed: grievances are added in the order
they were received (references follow the dates), and the histories of different grievances run in parallel,
each grievance's steps in order (a grievance and the duplicates merged into it share one time line).

Usage (on a database created with `voisinage init --from examples/thomery.yaml`):
    examples/thomery/generate_grievances.py --db build/demo/thomery.db

Texts, names, streets and places are illustrative; e-mail addresses use the fictional example.fr domain.
All the neighbourhoods share the postcode 77810, so the locator can only place a grievance by its point, and
Effondré and Les Treilles have no polygon: each street belongs to a neighbourhood, which the clerk names
(`--neighbourhood`) when a grievance has no point or a point outside the polygons. A few reports sent with a
point from the website or the app in those two neighbourhoods are left without one ("Hors quartier").
Duplicates are merged (`merge --at`) and assignments recorded (`assign --at`) when they happen in the history;
the categories' delays come from the database (`grievance categories --json`).
"""

import argparse
import concurrent.futures
import datetime as dt
import json
import math
import os
import queue
import random
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTCODE = "77810"
UTC = dt.timezone.utc

# ---------------------------------------------------------------------------------------------------------
# Staff (from examples/thomery.yaml) and residents (the demo's, plus a few the generator adds when missing).

HANDLERS = [  # who records the answers and status changes, with weights
    ("marie.lefevre@mairie-thomery.example.fr", 45),
    ("julien.moreau@mairie-thomery.example.fr", 40),
    ("thomas.garnier@mairie-thomery.example.fr", 10),
    (None, 5),  # entered without --by: the history says "cli"
]
MARIE, JULIEN = "marie.lefevre@mairie-thomery.example.fr", "julien.moreau@mairie-thomery.example.fr"
HEAD = "thomas.garnier@mairie-thomery.example.fr"  # head of services (admin)
MODERATOR = "sandrine.petit@mairie-thomery.example.fr"

# name, e-mail, neighbourhood, how often they report (relative)
RESIDENTS = [
    ("Lucie Bernard", "lucie.bernard@example.fr", "centre-bourg", 4),
    ("Inès Roux", "ines.roux@example.fr", "centre-bourg", 2),
    ("Hugo Lambert", "hugo.lambert@example.fr", "centre-bourg", 2),
    ("Sophie Caron", "sophie.caron@example.fr", "centre-bourg", 3),
    ("Gilles Perrin", "gilles.perrin@example.fr", "centre-bourg", 6),
    ("Claire Dubois", "claire.dubois@example.fr", "bord-de-seine", 4),
    ("Marc Petitjean", "marc.petitjean@example.fr", "bord-de-seine", 2),
    ("Margot Lemaire", "margot.lemaire@example.fr", "bord-de-seine", 1),
    ("Amandine Leroy", "amandine.leroy@example.fr", "by", 2),
    ("Jean-Pierre Rousseau", "jp.rousseau@example.fr", "by", 8),
    ("Nathalie Morel", "nathalie.morel@example.fr", "effondre", 3),
    ("Youssef Amrani", "youssef.amrani@example.fr", "effondre", 2),
    ("Élise Fontaine", "elise.fontaine@example.fr", "les-treilles", 3),
    ("Bruno Vasseur", "bruno.vasseur@example.fr", "les-treilles", 1),
]

FIRST_NAMES = """Jeanne Michel Nathalie Philippe Sylvie Christophe Isabelle Patrick Catherine Laurent Valérie
Stéphane Sophie Frédéric Chantal Olivier Martine Éric Céline Thierry Aurélie Nicolas Camille Julie Mathieu Émilie
Bernard Monique Gérard Josiane Yannick Nadia Mehdi Fatima Karine Romain Léa Manon Antoine Hélène Daniel Brigitte
Alain Françoise Sébastien Élodie Pascal Annie Denise Rémi""".split()
LAST_NAMES = """Martin Durand Lefebvre Fournier Mercier Blanc Guérin Boyer Chevalier Legrand Gauthier Robin
Clément Morin Henry Roussel Masson Marchand Duval Dumont Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly
Rivière Lucas Brunet Gaillard Barbier Arnaud Roche Renard Schmitt Colin Vidal Picard Fabre Aubert Lemoine Renaud
Dumas Lacroix Bourgeois Benoît Leclerc Rolland Dupuis Guillot Hubert Berger Carpentier Moulin Deschamps Huet
Fleury Royer Jacquet Poirier Aubry Guyot Carré Ménard Maillard Bertin Bailly Hervé Collet Léger Bouvier Prévost
Millet Perrot Cousin Germain Breton Besson Langlois Pelletier Lebrun Tessier Chauvin Humbert Lejeune Pasquier""".split()

# ---------------------------------------------------------------------------------------------------------
# Streets: name, neighbourhood, highest house number (0: no numbers), weight, landmarks. Illustrative.

STREETS = [
    ("rue de la République", "centre-bourg", 98, 10,
     ["devant la pharmacie", "près de la boulangerie", "à hauteur de l'arrêt de bus", "en face de la poste"]),
    ("rue Sadi Carnot", "centre-bourg", 64, 6, ["au carrefour avec la rue Gambetta", "près du cabinet médical"]),
    ("rue Gambetta", "centre-bourg", 47, 5, ["près de la salle des fêtes", "au niveau du n° 12"]),
    ("place Greffulhe", "centre-bourg", 14, 5, ["près du monument aux morts", "côté parking", "devant la mairie"]),
    ("rue de l'Église", "centre-bourg", 31, 3, ["près de l'église Saint-Amand", "devant le presbytère"]),
    ("rue des Écoles", "centre-bourg", 26, 4, ["devant le groupe scolaire", "à la sortie de l'école"]),
    ("rue Jean Jaurès", "centre-bourg", 42, 3, ["près du city-stade", "au niveau du parking"]),
    ("quai Victor Hugo", "bord-de-seine", 84, 8,
     ["au niveau du port", "près de la cale de mise à l'eau", "face à l'île", "près de la guinguette"]),
    ("rue du Port", "bord-de-seine", 36, 4, ["près de la capitainerie", "au bas de la rue"]),
    ("chemin de halage", "bord-de-seine", 0, 4, ["entre le port et By", "à hauteur du lavoir", "sous le pont"]),
    ("rue des Mariniers", "bord-de-seine", 28, 2, ["près des garages", "au débouché sur le quai"]),
    ("rue Rosa Bonheur", "by", 44, 5, ["près du château de Rosa Bonheur", "devant l'ancien atelier"]),
    ("rue de By", "by", 52, 4, ["à l'entrée du hameau", "près du calvaire"]),
    ("rue de la Forêt", "by", 30, 3, ["à la lisière de la forêt", "au parking forestier"]),
    ("allée des Peintres", "by", 18, 1, ["au fond de l'impasse"]),
    ("route de Champagne", "effondre", 126, 7,
     ["à la sortie de la commune", "près du rond-point", "à hauteur de l'arrêt de bus"]),
    ("rue de l'Effondré", "effondre", 40, 3, ["près de la fontaine", "au virage"]),
    ("rue de Vaux", "effondre", 33, 3, ["au croisement avec la route de Champagne"]),
    ("chemin des Plantes", "effondre", 0, 2, ["en bordure des champs", "près du transformateur"]),
    ("rue des Murs", "les-treilles", 72, 6, ["le long des murs à chasselas", "près du conservatoire des murs"]),
    ("rue des Treilles", "les-treilles", 30, 3, ["en haut de la côte", "au niveau des jardins familiaux"]),
    ("rue du Chasselas", "les-treilles", 25, 2, ["près du pressoir", "au virage"]),
    ("rue des Vignes", "les-treilles", 35, 2, ["au bout de la rue", "près de l'aire de jeux"]),
    ("sentier des Murs à chasselas", "les-treilles", 0, 2, ["entre deux murs", "à l'entrée du sentier"]),
]

# Areas for the neighbourhoods without a polygon (lon/lat boxes, checked to be outside the polygons).
BOXES = {"effondre": (2.7905, 48.4030, 2.7980, 48.4068), "les-treilles": (2.7740, 48.4080, 2.7800, 48.4112)}

# ---------------------------------------------------------------------------------------------------------
# Categories: weight, monthly factors (Jan..Dec), median delay as a share of the category's delay (sla_days,
# read from `voisinage grievance categories --json` at start), streets reported more often, the problems people
# report (titles, descriptions and the answers that go with them), then the answers common to the category.
# Outcomes: the chances of no_action, not_competent and transferred (when there is a text for it).

WORKS = {"voirie", "eclairage_public", "signalisation", "mobilier_urbain", "espaces_verts", "eau_assainissement"}


# Streets for the problems that happen at one kind of place.
RIVERSIDE = ["quai Victor Hugo", "rue du Port", "chemin de halage", "rue des Mariniers"]
SCHOOL = ["rue des Écoles", "rue Jean Jaurès"]
WOODS = ["rue de la Forêt", "chemin des Plantes", "rue de By", "allée des Peintres"]
WALLS = ["rue des Murs", "sentier des Murs à chasselas", "rue des Treilles", "rue du Chasselas"]
BUS_STOPS = ["rue de la République", "route de Champagne", "quai Victor Hugo", "rue Sadi Carnot"]


def problem(titles, details, resolved=None, w=1, at=None, paired=False, **answers):
    """What people report: any title with any description (the same index when paired), the answers that fit,
    and the streets where it happens (at)."""
    return dict(titles=titles, details=details, resolved=resolved or [], w=w, at=at, paired=paired, **answers)


CATEGORIES = {
    "voirie": dict(
        weight=15, months=[1.4, 1.5, 1.4, 1.1, 0.9, 0.8, 0.7, 0.7, 0.9, 1.0, 1.1, 1.3], speed=0.7,
        streets={"rue de la République": 2, "route de Champagne": 2, "rue Sadi Carnot": 1.5},
        problems=[
            problem(["Nid-de-poule {rue}", "Nid-de-poule dangereux pour les vélos", "Trou dans la chaussée {rue}"],
                    ["Un nid-de-poule d'une vingtaine de centimètres s'est formé {rue} ; les voitures font des "
                     "écarts pour l'éviter.",
                     "Il y a un trou profond au bord de la chaussée, juste à côté de l'évacuation d'eau.",
                     "Un trou s'est ouvert dans la chaussée après le gel, un cycliste a failli tomber."],
                    ["Le nid-de-poule a été rebouché à l'enrobé par les services techniques.",
                     "Le trou a été comblé ; une réfection plus durable est inscrite au programme de voirie."],
                    w=4, planned=["Le rebouchage à l'enrobé est prévu le {date}."]),
            problem(["Trottoir défoncé {rue}", "Trottoir impraticable avec une poussette"],
                    ["Le trottoir est défoncé sur plusieurs mètres, on ne peut plus y passer avec une poussette "
                     "ou un fauteuil roulant."],
                    ["Le trottoir a été repris sur la partie endommagée."],
                    w=2, planned=["Une entreprise reprendra le trottoir le {date}."]),
            problem(["Racines qui soulèvent le trottoir"],
                    ["Les racines des arbres soulèvent l'enrobé du trottoir ; une personne âgée a déjà trébuché."],
                    ["L'enrobé du trottoir a été refait et les racines coupées."],
                    planned=["Une entreprise reprendra le trottoir le {date}."]),
            problem(["Chaussée affaissée devant le {num}", "Chaussée affaissée {rue}"],
                    ["La chaussée s'est affaissée depuis les dernières pluies et l'eau stagne dans le creux."],
                    ["La chaussée a été reprise sur la zone affaissée."],
                    planned=["L'entreprise reprendra la chaussée le {date}."]),
            problem(["Tranchée mal refaite après des travaux"],
                    ["Depuis les travaux de raccordement, la tranchée n'a pas été refaite correctement et le "
                     "revêtement se creuse."],
                    ["La tranchée a été reprise par l'entreprise qui avait fait les travaux, à la demande de la "
                     "commune."],
                    transferred=["Les dégâts viennent du chantier d'un concessionnaire de réseaux : votre "
                                 "signalement lui a été transmis pour remise en état."]),
            problem(["Pavés descellés {rue}"],
                    ["Plusieurs pavés sont descellés et présentent un risque de chute pour les piétons."],
                    ["Les pavés ont été rescellés."]),
            problem(["Bordure de trottoir cassée"],
                    ["Une bordure est cassée et des morceaux de béton traînent sur le trottoir."],
                    ["La bordure a été remplacée et les débris enlevés."]),
            problem(["Regard qui claque au passage des voitures"],
                    ["La plaque du regard bouge et claque à chaque passage de voiture, y compris la nuit."],
                    ["Le regard a été recalé : il ne devrait plus faire de bruit."]),
            problem(["Gravillons dans le virage"],
                    ["Des gravillons se sont accumulés dans le virage, c'est glissant pour les deux-roues."],
                    ["Le virage a été balayé."]),
        ],
        progress=["L'équipe voirie est sur place.", "Les travaux de reprise ont commencé."],
        no_action=["Après passage d'un agent, la chaussée ne présente pas de danger immédiat : la reprise sera "
                   "faite lors de la réfection de la rue prévue au budget."],
        not_competent=["Cette voie est une route départementale : son entretien relève du Département de "
                       "Seine-et-Marne (agence routière territoriale). Nous vous invitons à le contacter."],
        transferred=["Votre signalement a été transmis au Département de Seine-et-Marne, gestionnaire de cette "
                     "route départementale."],
        outcomes=(0.05, 0.05, 0.05)),
    "eclairage_public": dict(
        weight=9, months=[1.8, 1.5, 1.1, 0.7, 0.5, 0.4, 0.4, 0.5, 0.8, 1.3, 1.8, 1.9], speed=0.6,
        streets={},
        problems=[
            problem(["Lampadaire éteint {rue}", "Éclairage public en panne", "Lampadaire éteint devant le {num}"],
                    ["Le lampadaire n° {n} ne s'allume plus depuis plusieurs soirs.",
                     "Les enfants vont à l'arrêt de bus dans le noir le matin : le lampadaire est éteint depuis "
                     "une semaine."],
                    ["La lampe a été remplacée, l'éclairage fonctionne à nouveau.",
                     "Le luminaire a été remplacé par un modèle à LED."],
                    w=4, no_action=["Les lampadaires de ce secteur s'éteignent volontairement entre 23 h et 5 h : "
                                    "c'est l'extinction nocturne votée par le conseil municipal."]),
            problem(["Plusieurs lampadaires éteints {rue}", "Rue plongée dans le noir"],
                    ["Toute la portion de la rue entre le {num} et le {num2} est dans le noir ; c'est dangereux "
                     "pour les piétons qui rentrent de la gare."],
                    ["Le défaut venait de l'armoire de commande, qui a été réparée : tous les points lumineux de "
                     "la rue fonctionnent."],
                    w=2, transferred=["La panne vient du réseau électrique : votre signalement a été transmis à "
                                      "Enedis."]),
            problem(["Lampadaire qui clignote"],
                    ["Le lampadaire clignote toute la nuit, c'est très gênant pour les riverains."],
                    ["La lampe défectueuse a été remplacée."]),
            problem(["Lampadaire allumé en plein jour", "Éclairage décalé depuis le changement d'heure"],
                    ["L'éclairage reste allumé en pleine journée depuis une semaine.",
                     "Depuis le changement d'heure, l'éclairage ne s'allume plus au bon moment."],
                    ["L'horloge de l'armoire d'éclairage a été réglée."], paired=True),
            problem(["Candélabre penché après un choc"],
                    ["Un candélabre a été heurté par un véhicule et penche dangereusement."],
                    ["Le candélabre a été remplacé ; la commune se retourne contre l'assurance du conducteur."],
                    planned=["Le remplacement du candélabre est commandé ; la pose est prévue le {date}."]),
            problem(["Globe de lampadaire cassé"],
                    ["Le globe du lampadaire est cassé et des morceaux de verre sont tombés sur le trottoir."],
                    ["Le globe a été remplacé et le trottoir nettoyé."]),
        ],
        planned=["L'entreprise de maintenance de l'éclairage public passera le {date}."],
        progress=["L'entreprise de maintenance est prévenue, le diagnostic est en cours.",
                  "Pièce commandée auprès du fournisseur."],
        no_action=["Après vérification de nuit, l'éclairage fonctionne normalement."],
        not_competent=["Ce luminaire appartient à une résidence privée : c'est au syndic d'intervenir."],
        outcomes=(0.06, 0.03, 0.05)),
    "signalisation": dict(
        weight=5, months=[1.0] * 12, speed=0.7,
        streets={"rue des Écoles": 2, "route de Champagne": 2},
        problems=[
            problem(["Panneau stop arraché", "Panneau renversé {rue}"],
                    ["Le panneau stop a été arraché et gît dans le fossé, le carrefour est devenu dangereux."],
                    ["Le panneau a été remis en place."],
                    planned=["Le nouveau panneau est commandé ; la pose est prévue le {date}."]),
            problem(["Passage piéton effacé {rue}"],
                    ["Le marquage du passage piéton est presque invisible, les voitures ne s'arrêtent plus."],
                    ["Le passage piéton a été repeint."],
                    planned=["Le marquage au sol sera refait le {date}, si le temps est sec."],
                    no_action=["Un marquage supplémentaire n'est pas prévu à cet endroit ; la demande sera "
                               "étudiée lors du prochain plan de circulation."]),
            problem(["Passage piéton à repeindre devant l'école"],
                    ["Le passage piéton devant l'école est presque effacé, les voitures ne s'arrêtent plus pour "
                     "les enfants."],
                    ["Le passage piéton a été repeint pendant les vacances scolaires."], at=SCHOOL,
                    planned=["Le marquage au sol sera refait le {date}, si le temps est sec."]),
            problem(["Ligne d'arrêt effacée au carrefour"],
                    ["La ligne d'arrêt du stop est effacée depuis l'hiver."],
                    ["Le marquage au sol a été refait."],
                    planned=["Le marquage au sol sera refait le {date}, si le temps est sec."]),
            problem(["Panneau tourné par le vent"],
                    ["Le panneau a tourné avec le vent et n'est plus lisible dans le bon sens."],
                    ["Le panneau a été remis dans le bon sens et resserré."]),
            problem(["Panneau 30 masqué par une haie"],
                    ["Le panneau de limitation à 30 est caché par une haie, personne ne le voit."],
                    ["La végétation qui masquait le panneau a été taillée."]),
            problem(["Miroir de sécurité cassé"],
                    ["Le miroir de sécurité à la sortie du chemin est brisé, on ne voit plus les voitures "
                     "arriver."], ["Le miroir a été remplacé."]),
            problem(["Plaque de rue illisible"],
                    ["La plaque de rue est tellement décolorée que les livreurs ne trouvent pas l'adresse."],
                    ["Une nouvelle plaque de rue a été posée."]),
        ],
        planned=["L'intervention est prévue le {date}."],
        progress=["L'équipe est sur place."],
        no_action=["Après vérification, la signalisation est conforme et visible."],
        not_competent=["La signalisation de cette route départementale relève du Département de "
                       "Seine-et-Marne."],
        transferred=["Votre signalement a été transmis au Département de Seine-et-Marne, gestionnaire de la "
                     "route."],
        outcomes=(0.06, 0.04, 0.04)),
    "mobilier_urbain": dict(
        weight=4, months=[0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.2, 1.0, 0.9, 0.8, 0.8], speed=0.55,
        streets={"quai Victor Hugo": 2, "place Greffulhe": 2},
        problems=[
            problem(["Banc cassé {rue}"], ["Une latte du banc est cassée et des clous dépassent."],
                    ["Le banc a été réparé."], w=2),
            problem(["Abribus vandalisé", "Vitre de l'abribus brisée"],
                    ["La vitre de l'abribus a été brisée, il y a des éclats de verre partout."],
                    ["La vitre de l'abribus a été remplacée."],
                    transferred=["L'abribus appartient au réseau de bus de l'agglomération : votre signalement "
                                 "lui a été transmis."]),
            problem(["Barrière de sécurité arrachée"],
                    ["La barrière qui protège le trottoir a été arrachée, sans doute par un camion."],
                    ["La barrière a été refixée."]),
            problem(["Corbeille publique descellée"],
                    ["La corbeille ne tient plus sur son poteau et tombe dès qu'on y jette quelque chose."],
                    ["La corbeille a été refixée."]),
            problem(["Potelet renversé"], ["Un potelet a été renversé et son socle en béton dépasse du trottoir."],
                    ["Le potelet a été remplacé."]),
            problem(["Jeu pour enfants dangereux"],
                    ["Le toboggan de l'aire de jeux a une planche fendue, un enfant s'est coupé."],
                    ["Le jeu a été interdit d'accès puis réparé."],
                    progress=["Le jeu est interdit d'accès en attendant la réparation."]),
            problem(["Table de pique-nique abîmée"], ["La table de pique-nique a un pied cassé."],
                    ["La table a été réparée."]),
            problem(["Arceau vélo arraché"], ["Un arceau à vélos a été arraché et traîne sur le trottoir."],
                    ["L'arceau a été refixé."]),
        ],
        planned=["La pièce de remplacement est commandée ; la pose est prévue le {date}."],
        progress=["Pièce commandée auprès du fournisseur."],
        no_action=["Le mobilier a été vérifié : il est en bon état et ne présente pas de danger."],
        not_competent=["Ce mobilier est sur un terrain privé : c'est au propriétaire d'intervenir."],
        outcomes=(0.06, 0.03, 0.06)),
    "proprete": dict(
        weight=11, months=[0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.2, 1.0, 1.4, 1.5, 0.9], speed=0.65,
        streets={"place Greffulhe": 2, "quai Victor Hugo": 2, "rue de la République": 1.5},
        problems=[
            problem(["Trottoir très sale {rue}"],
                    ["Le trottoir n'a pas été nettoyé depuis des semaines, il y a des papiers et des canettes "
                     "partout."],
                    ["La balayeuse est passée.", "Le secteur a été nettoyé par l'équipe propreté."],
                    w=2, no_action=["Le nettoyage devant les habitations incombe aux riverains, comme le prévoit "
                                    "l'arrêté municipal sur l'entretien des trottoirs."]),
            problem(["Déjections canines {rue}"],
                    ["Les déjections canines se multiplient sur le trottoir, on ne peut plus marcher sans "
                     "regarder ses pieds."],
                    ["Le trottoir a été nettoyé et un distributeur de sacs pour chiens a été installé."]),
            problem(["Déjections canines devant l'école"],
                    ["Les déjections canines se multiplient devant l'école, les enfants marchent dedans."],
                    ["Le trottoir a été nettoyé et un distributeur de sacs pour chiens a été installé."], at=SCHOOL),
            problem(["Feuilles mortes dans le caniveau"],
                    ["Les feuilles mortes bouchent le caniveau et rendent le trottoir glissant."],
                    ["Les feuilles ont été ramassées et le caniveau dégagé."]),
            problem(["Corbeille qui déborde {rue}"],
                    ["La corbeille déborde depuis le week-end, les déchets s'envolent."],
                    ["La corbeille a été vidée et sera vidée deux fois par semaine pendant l'été."]),
            problem(["Verre cassé sur le trottoir"],
                    ["Il y a des morceaux de bouteille cassée sur le trottoir, c'est dangereux pour les chiens et "
                     "les enfants."], ["Le verre a été ramassé."]),
            problem(["Mégots devant l'arrêt de bus"],
                    ["Des centaines de mégots s'accumulent autour de l'arrêt de bus."],
                    ["L'arrêt de bus a été nettoyé et un cendrier installé."], at=BUS_STOPS),
            problem(["Boue sur la chaussée"], ["Des engins de chantier laissent de la boue sur toute la chaussée."],
                    ["L'entreprise du chantier a été mise en demeure de nettoyer la chaussée, ce qui a été fait."]),
            problem(["Déchets au bord de l'eau après le week-end"],
                    ["Après les pique-niques du dimanche, les pelouses au bord de l'eau sont jonchées de "
                     "déchets."],
                    ["Les berges ont été nettoyées ; des corbeilles supplémentaires seront installées l'été."],
                    at=RIVERSIDE),
        ],
        planned=["Un passage de la balayeuse est programmé le {date}."],
        progress=["L'équipe propreté est prévenue."],
        no_action=["À notre passage, le secteur était propre."],
        not_competent=["Cet espace appartient à une copropriété : c'est au syndic d'organiser le nettoyage."],
        outcomes=(0.05, 0.02, 0.0)),
    "depots_sauvages": dict(
        weight=12, months=[0.8, 0.8, 1.0, 1.1, 1.2, 1.2, 1.2, 1.1, 1.1, 1.0, 0.9, 1.0], speed=0.55,
        streets={"chemin de halage": 4, "rue de la Forêt": 4, "chemin des Plantes": 4,
                 "sentier des Murs à chasselas": 3, "route de Champagne": 2},
        problems=[
            problem(["Matelas et meubles déposés sur le trottoir", "Encombrants sortis hors des jours de collecte"],
                    ["Quelqu'un a déposé un matelas, un canapé et des sacs de déchets sur le trottoir."], w=2),
            problem(["Gravats abandonnés en bord de chemin", "Déchets de chantier abandonnés"],
                    ["Une dizaine de sacs de gravats ont été abandonnés au bord du chemin.",
                     "Des déchets de chantier (plaques de plâtre, pots de peinture) ont été abandonnés cette "
                     "nuit."], w=2, paired=True),
            problem(["Pneus abandonnés"], ["Des pneus usagés ont été jetés dans le fossé."]),
            problem(["Électroménager déposé près des conteneurs"],
                    ["Un réfrigérateur et une machine à laver ont été déposés à côté des conteneurs à verre."]),
            problem(["Déchets verts déversés à la lisière du bois"],
                    ["Des déchets verts sont régulièrement déversés à cet endroit, le tas grossit chaque "
                     "semaine."], at=WOODS),
            problem(["Dépôt sauvage {rue}", "Sacs poubelles abandonnés"],
                    ["Des sacs éventrés traînent depuis plusieurs jours, les animaux éparpillent les déchets."],
                    w=2),
        ],
        resolved=["Le dépôt a été enlevé par les services techniques.",
                  "Les déchets ont été évacués ; des éléments permettant d'identifier l'auteur ont été remis à la "
                  "police municipale.",
                  "Le dépôt a été enlevé. Pour rappel, la déchetterie de l'agglomération est gratuite pour les "
                  "habitants."],
        planned=["L'enlèvement, qui nécessite un camion-benne, est prévu le {date}."],
        progress=["Enlèvement en cours.", "La police municipale enquête pour retrouver l'auteur."],
        no_action=["À notre passage, le dépôt avait déjà été enlevé."],
        not_competent=["Le terrain est une propriété privée : le propriétaire a été informé qu'il lui revient "
                       "d'évacuer ces déchets."],
        transferred=["Le terrain n'appartient pas à la commune : votre signalement a été transmis à son "
                     "gestionnaire pour enlèvement."],
        transferred_at={"chemin de halage": "Le chemin de halage relève de Voies navigables de France : votre "
                                            "signalement leur a été transmis.",
                        "rue de la Forêt": "Le dépôt se trouve en forêt domaniale : votre signalement a été "
                                           "transmis à l'Office national des forêts."},
        outcomes=(0.04, 0.03, 0.03)),
    "collecte_dechets": dict(
        weight=8, months=[1.4, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.0, 1.0, 1.0, 1.4], speed=0.6,
        streets={},
        problems=[
            problem(["Bac non collecté {rue}", "Collecte oubliée dans toute la rue"],
                    ["Le bac d'ordures ménagères n'a pas été vidé mardi alors qu'il était sorti la veille au soir.",
                     "Aucun bac de la rue n'a été vidé cette semaine."],
                    ["La communauté d'agglomération a fait une collecte de rattrapage."],
                    w=3, paired=True,
                    no_action=["D'après le prestataire, le bac n'était pas sorti au passage du camion."]),
            problem(["Poubelles jaunes non ramassées"],
                    ["Les bacs jaunes de toute la rue n'ont pas été ramassés cette semaine."],
                    ["Le prestataire est repassé pour collecter les bacs jaunes."],
                    w=2, no_action=["Les bacs jaunes n'ont pas été collectés car ils contenaient des déchets non "
                                    "recyclables ; un autocollant explicatif a été posé."]),
            problem(["Bac cassé à remplacer", "Couvercle de bac arraché par le camion"],
                    ["Le bac est fendu sur toute la hauteur.",
                     "Le couvercle du bac a été arraché par le lève-conteneur du camion."],
                    ["Un nouveau bac a été livré."], w=2, paired=True),
            problem(["Demande de bac plus grand"],
                    ["Nous sommes cinq à la maison, le bac est trop petit ; nous souhaitons un bac plus grand."],
                    ["Un bac de 240 litres a été livré."]),
            problem(["Conteneur à verre plein {rue}"],
                    ["Le conteneur à verre est plein, les gens déposent les bouteilles par terre."],
                    ["Le conteneur à verre a été vidé."]),
            problem(["Collecte trop matinale"], ["Le camion passe à 5 h du matin et réveille tout le quartier."],
                    ["Le prestataire de collecte a été rappelé à l'ordre : il ne passera plus avant 6 h."],
                    no_action=["Les horaires de collecte sont fixés par la communauté d'agglomération pour tout "
                               "le secteur et ne peuvent pas être modifiés pour une rue."]),
        ],
        planned=["La livraison est prévue le {date}."],
        progress=["La demande est transmise au prestataire de collecte."],
        outcomes=(0.08, 0.0, 0.0)),
    "graffitis": dict(
        weight=4, months=[1.0] * 12, speed=0.7,
        streets={"rue des Écoles": 2, "rue des Murs": 2},
        problems=[
            problem(["Tags sur le mur de l'école"],
                    ["Des tags sont apparus ce week-end sur le mur de l'école, en grandes lettres noires."],
                    ["Les tags ont été effacés par l'équipe technique."], at=SCHOOL),
            problem(["Graffitis sur l'abribus"], ["L'abribus est couvert de graffitis depuis quelques jours."],
                    ["Les graffitis ont été effacés."]),
            problem(["Tags sur les murs à chasselas"],
                    ["Des tags ont été peints sur les murs à chasselas ; c'est le patrimoine de la commune, c'est "
                     "désolant."],
                    ["Les tags ont été effacés avec un procédé adapté aux murs anciens."], at=WALLS,
                    not_competent=["Ce mur appartient à un particulier : la commune peut intervenir avec son "
                                   "accord écrit ; un formulaire vous a été envoyé."]),
            problem(["Tag injurieux sur un mur {rue}"], ["Un tag injurieux a été peint sur un mur visible depuis "
                                                         "la rue."],
                    ["Le tag a été effacé en priorité."],
                    not_competent=["Ce mur appartient à un particulier : la commune peut intervenir avec son "
                                   "accord écrit ; un formulaire vous a été envoyé."]),
            problem(["Affichage sauvage sur les poteaux"],
                    ["Des affiches de concert sont collées sur tous les poteaux de la rue."],
                    ["Les affiches ont été retirées."],
                    no_action=["Les affiches concernent une manifestation autorisée et seront retirées après la "
                               "date."]),
            problem(["Affiches et tags sur le transformateur"],
                    ["Le transformateur électrique est couvert d'affiches et de tags."],
                    ["Le transformateur a été nettoyé par Enedis."],
                    transferred=["Le transformateur appartient à Enedis : votre signalement lui a été "
                                 "transmis."]),
        ],
        planned=["L'entreprise d'effacement des graffitis passera le {date}."],
        progress=["Intervention demandée à l'entreprise spécialisée."],
        no_action=["À notre passage, le tag avait déjà été effacé par le propriétaire."],
        outcomes=(0.04, 0.08, 0.06)),
    "espaces_verts": dict(
        weight=9, months=[0.4, 0.5, 1.0, 1.7, 2.0, 1.8, 1.4, 1.1, 1.0, 0.9, 0.7, 0.6], speed=0.7,
        streets={"rue de la Forêt": 3, "chemin de halage": 2, "rue de By": 2, "rue des Treilles": 1.5},
        problems=[
            problem(["Haie qui déborde sur le trottoir"],
                    ["La haie du {num} déborde tellement qu'il faut marcher sur la chaussée."],
                    ["Le propriétaire a taillé sa haie après notre courrier."],
                    w=3, progress=["Un courrier a été envoyé au propriétaire de la haie."],
                    not_competent=["La haie appartient à une propriété privée : la taille incombe au "
                                   "propriétaire, à qui nous avons rappelé ses obligations."]),
            problem(["Branche menaçant de tomber {rue}"],
                    ["Une grosse branche est fendue et pend au-dessus du trottoir, elle peut tomber sur un "
                     "passant."],
                    ["La branche a été coupée et évacuée."], w=2,
                    planned=["L'élagage est programmé le {date}."]),
            problem(["Arbre tombé {rue}"], ["Un arbre est tombé en travers du chemin après le coup de vent."],
                    ["L'arbre a été débité et évacué."]),
            problem(["Herbes hautes sur le trottoir"],
                    ["L'herbe atteint un mètre sur le trottoir, on ne voit plus les enfants qui arrivent."],
                    ["Le désherbage a été fait."], w=2,
                    no_action=["Cette bande enherbée est volontairement fauchée tard pour favoriser la "
                               "biodiversité (gestion différenciée des espaces verts)."]),
            problem(["Arbre mort à abattre", "Arbre malade {rue}"],
                    ["L'arbre devant le {num} semble mort, il n'a plus de feuilles depuis l'an dernier."],
                    ["L'arbre a été abattu et sera remplacé cet hiver."],
                    planned=["L'abattage, qui demande une nacelle, est prévu le {date}."],
                    no_action=["L'arbre a été examiné par un agent : il est sain et ne présente pas de danger."]),
            problem(["Ronces qui envahissent le chemin"],
                    ["Les ronces ont envahi le chemin, on ne peut plus passer à vélo."],
                    ["Le chemin a été débroussaillé."],
                    at=["chemin de halage", "chemin des Plantes", "sentier des Murs à chasselas",
                        "rue de la Forêt"]),
            problem(["Tonte à prévoir au square"], ["Le square n'a pas été tondu depuis le printemps."],
                    ["Le square a été tondu."], at=["place Greffulhe", "rue Jean Jaurès", "rue des Vignes"]),
            problem(["Massif de fleurs saccagé"], ["Le massif fleuri a été piétiné et les plantes arrachées."],
                    ["Le massif a été replanté."]),
        ],
        planned=["L'intervention de l'équipe des espaces verts est programmée le {date}."],
        progress=["L'équipe des espaces verts est sur place."],
        no_action=["Après passage d'un agent, aucune intervention n'est nécessaire pour le moment."],
        transferred=["Ce terrain n'est pas communal : votre signalement a été transmis à son gestionnaire."],
        transferred_at={"chemin de halage": "Le chemin de halage est géré par Voies navigables de France : votre "
                                            "signalement leur a été transmis.",
                        "rue de la Forêt": "Cet arbre est en forêt domaniale : votre signalement a été transmis à "
                                           "l'Office national des forêts."},
        outcomes=(0.06, 0.04, 0.04)),
    "eau_assainissement": dict(
        weight=5, months=[1.4, 1.3, 1.2, 1.0, 1.0, 1.2, 1.0, 0.9, 1.0, 1.3, 1.5, 1.4], speed=0.7,
        streets={"quai Victor Hugo": 3, "rue du Port": 2, "chemin de halage": 2, "route de Champagne": 1.5},
        problems=[
            problem(["Avaloir bouché {rue}", "Grille d'eaux pluviales obstruée", "Caniveau bouché"],
                    ["L'avaloir est bouché par les feuilles et la rue se transforme en mare à chaque averse.",
                     "La grille d'eaux pluviales est complètement obstruée par de la terre.",
                     "Le caniveau est bouché par la terre et les feuilles, l'eau déborde sur le trottoir."],
                    ["Le curage a été fait, l'eau s'écoule à nouveau."], w=3, paired=True),
            problem(["Fuite d'eau sur la chaussée"],
                    ["De l'eau claire coule en permanence sur la chaussée, il doit y avoir une fuite."],
                    ["La fuite a été réparée par le délégataire du service de l'eau."],
                    progress=["Recherche de fuite en cours."],
                    transferred=["Votre signalement a été transmis au délégataire du service de l'eau, qui "
                                 "intervient sur les fuites du réseau public."],
                    not_competent=["La fuite se situe après le compteur, sur la partie privée : la réparation "
                                   "est à la charge du propriétaire."]),
            problem(["Odeurs d'égout"], ["Il y a une forte odeur d'égout depuis plusieurs jours, surtout le soir."],
                    ["Le réseau a été hydrocuré."],
                    planned=["Une inspection du réseau par caméra est prévue le {date}."],
                    no_action=["Après vérification, le réseau public fonctionne normalement."]),
            problem(["Chaussée inondée à chaque orage", "Eau qui stagne devant le {num}"],
                    ["À chaque orage, l'eau monte jusqu'aux marches des maisons.",
                     "L'eau stagne devant la maison plusieurs jours après chaque pluie."],
                    ["Le réseau d'eaux pluviales a été curé et un avaloir supplémentaire posé."],
                    w=2, paired=True, planned=["Le curage du réseau est programmé le {date}."]),
            problem(["Regard d'égout qui déborde"], ["Le regard déborde et de l'eau sale coule sur le trottoir."],
                    ["Le réseau a été débouché par hydrocurage."]),
        ],
        planned=["L'intervention est programmée le {date}."],
        progress=["Le délégataire est prévenu."],
        no_action=["Après vérification, aucune anomalie n'a été constatée sur le réseau public."],
        outcomes=(0.05, 0.06, 0.08)),
    "stationnement": dict(
        weight=10, months=[1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.2, 1.0, 1.1, 1.0, 1.0, 1.0], speed=0.4,
        streets={"rue de la République": 3, "rue des Écoles": 3, "place Greffulhe": 2, "quai Victor Hugo": 2},
        problems=[
            problem(["Voiture garée sur le trottoir {rue}"],
                    ["Tous les soirs, une voiture est garée à cheval sur le trottoir et il faut passer sur la "
                     "chaussée avec la poussette."],
                    ["La police municipale est passée et a verbalisé."], w=3),
            problem(["Stationnement gênant devant l'école"],
                    ["Aux heures d'entrée et de sortie de l'école, des parents se garent en double file et sur "
                     "le passage piéton."],
                    ["Des contrôles ont été faits aux heures d'entrée et de sortie de l'école."], w=2, at=SCHOOL),
            problem(["Véhicule ventouse depuis des semaines"],
                    ["Une voiture sans plaque est stationnée au même endroit depuis plus d'un mois."],
                    ["Le véhicule a été mis en fourrière après constat."]),
            problem(["Camion garé sur le passage piéton"],
                    ["Un camion de livraison stationne chaque matin sur le passage piéton."],
                    ["Le livreur a été rencontré et verbalisé."]),
            problem(["Place réservée aux personnes handicapées occupée"],
                    ["La place réservée aux personnes handicapées est régulièrement occupée par des véhicules "
                     "sans carte."], ["La police municipale a verbalisé à plusieurs reprises."]),
            problem(["Voiture qui bloque l'accès au garage"],
                    ["Je ne peux plus sortir ma voiture de mon garage, un véhicule est garé devant la sortie."],
                    ["Le propriétaire du véhicule a été contacté et l'a déplacé."],
                    no_action=["À l'arrivée de la police municipale, le véhicule n'était plus là."]),
            problem(["Camping-car stationné en permanence au bord de l'eau"],
                    ["Un camping-car est stationné sur le quai depuis trois semaines."],
                    ["Le propriétaire du camping-car a été invité à partir, ce qu'il a fait."],
                    at=["quai Victor Hugo"]),
        ],
        progress=["La police municipale a été prévenue."],
        no_action=["Lors des passages de la police municipale, aucun stationnement gênant n'a été constaté."],
        not_competent=["Il s'agit d'une voie privée : le stationnement y relève du règlement de la copropriété."],
        outcomes=(0.14, 0.02, 0.0)),
    "bruit": dict(
        weight=5, months=[0.5, 0.5, 0.7, 0.9, 1.2, 1.8, 2.2, 2.0, 1.2, 0.8, 0.6, 0.9], speed=0.6,
        streets={"quai Victor Hugo": 3, "rue du Port": 2, "place Greffulhe": 2},
        problems=[
            problem(["Aboiements incessants"], ["Le chien du voisin aboie toute la journée quand ses maîtres sont "
                                                "absents."],
                    ["La police municipale a rencontré le propriétaire du chien et rappelé la réglementation."]),
            problem(["Musique forte tard le soir"], ["Tous les week-ends, de la musique à fond jusqu'à 2 h du "
                                                     "matin."],
                    ["Un courrier rappelant l'arrêté préfectoral sur les bruits de voisinage a été envoyé."]),
            problem(["Travaux bruyants le dimanche"],
                    ["Des travaux à la disqueuse le dimanche matin, alors que ce n'est pas autorisé."],
                    ["La police municipale a rappelé les horaires autorisés pour les travaux bruyants."]),
            problem(["Bruit la nuit au bord de l'eau"],
                    ["Des groupes se retrouvent au bord de l'eau la nuit et crient jusqu'à l'aube."],
                    ["Des patrouilles ont été organisées les soirs de week-end."], at=RIVERSIDE),
            problem(["Rodéos de motos {rue}"],
                    ["Des motos font des rodéos dans la rue le soir, c'est dangereux et insupportable."],
                    ["Des contrôles ont été menés avec la gendarmerie."]),
            problem(["Alarme qui sonne depuis des heures"],
                    ["Une alarme de maison sonne depuis ce matin, les propriétaires semblent absents."],
                    ["Les propriétaires ont été joints et l'alarme coupée."]),
            problem(["Souffleur de feuilles à 7 h du matin"],
                    ["Un voisin passe le souffleur de feuilles tous les samedis à 7 h du matin."],
                    ["Un courrier rappelant les horaires autorisés a été envoyé."]),
        ],
        progress=["La police municipale a pris contact avec les personnes concernées."],
        no_action=["Lors des passages de la police municipale, aucune nuisance n'a été constatée."],
        not_competent=["Il s'agit d'un différend entre voisins : nous vous invitons à saisir le conciliateur "
                       "de justice, qui tient une permanence en mairie."],
        transferred=["Les faits se produisent la nuit : votre signalement a été transmis à la gendarmerie, "
                     "compétente à ces heures-là."],
        outcomes=(0.08, 0.10, 0.12)),
    "animaux": dict(
        weight=4, months=[0.6, 0.6, 0.8, 1.1, 1.4, 1.5, 1.6, 1.6, 1.3, 0.8, 0.6, 0.6], speed=0.55,
        streets={"quai Victor Hugo": 2, "rue de la Forêt": 2},
        problems=[
            problem(["Chien errant {rue}"], ["Un chien sans collier erre dans la rue depuis ce matin."],
                    ["Le chien a été récupéré et rendu à son propriétaire.", "Le chien a été conduit à la "
                                                                             "fourrière."],
                    w=2, no_action=["Le chien n'a pas été retrouvé lors du passage de la police municipale."],
                    transferred=["Votre signalement a été transmis à la fourrière animale intercommunale."]),
            problem(["Chat blessé"], ["Un chat blessé à la patte est caché sous une voiture."],
                    ["Le chat a été pris en charge par une association de protection animale."],
                    transferred=["Votre signalement a été transmis à la fourrière animale intercommunale."]),
            problem(["Nid de frelons asiatiques"],
                    ["Un gros nid de frelons asiatiques est accroché dans l'arbre, à hauteur du toit."],
                    ["Le nid a été détruit par l'entreprise mandatée par la commune."],
                    w=2, not_competent=["Le nid se trouve sur une propriété privée : sa destruction est à la charge "
                                        "du propriétaire. Une liste d'entreprises vous a été envoyée."]),
            problem(["Chiens sans laisse au bord de l'eau"],
                    ["Des chiens non tenus en laisse courent après les promeneurs et les enfants."],
                    ["La police municipale a fait des rondes et rappelé l'obligation de tenir les chiens en "
                     "laisse."], at=RIVERSIDE),
            problem(["Rats près des conteneurs"], ["Des rats sortent des conteneurs le soir."],
                    ["Une dératisation a été faite dans le secteur."]),
            problem(["Pigeons sous le porche"],
                    ["Des pigeons nichent sous le porche de l'immeuble et salissent tout."],
                    ["Des pics anti-pigeons ont été posés sur le bâtiment communal voisin."],
                    not_competent=["Le porche appartient à la copropriété : c'est au syndic de faire poser des "
                                   "dispositifs anti-pigeons."]),
            problem(["Chien agressif en liberté"], ["Un chien agressif s'échappe régulièrement de sa propriété."],
                    ["Le propriétaire a été mis en demeure de sécuriser sa clôture."]),
        ],
        progress=["La police municipale recherche le propriétaire."],
        no_action=["L'animal n'a pas été retrouvé lors du passage de la police municipale."],
        outcomes=(0.08, 0.08, 0.10)),
}

# Grouped reports after something that happened in town: month, first day, days it lasts, how many, streets,
# and what people reported (category, problem).
EPISODES = [
    (2, 3, 12, 6, ["quai Victor Hugo", "chemin de halage", "rue du Port", "rue des Mariniers"], [
        ("proprete", problem(["Boue sur le quai après la crue"],
                             ["Depuis la décrue de la Seine, une couche de boue recouvre le quai et les marches."],
                             ["Le quai a été nettoyé à la lance après la décrue."])),
        ("depots_sauvages", problem(["Débris laissés par la crue {rue}"],
                                    ["La crue a laissé des branches, des planches et des déchets sur tout le "
                                     "chemin."], ["Les débris ont été évacués."])),
        ("eau_assainissement", problem(["Caves inondées par le réseau pendant la crue"],
                                       ["L'eau est remontée par les avaloirs pendant la crue et les caves de la "
                                        "rue sont inondées."],
                                       ["Le réseau a été curé ; la pose de clapets anti-retour est à l'étude."])),
        ("voirie", problem(["Chaussée ravinée après la crue"],
                           ["Le passage de l'eau a creusé la chaussée et emporté une partie du revêtement."],
                           ["La chaussée a été reprise."])),
    ]),
    (11, 8, 5, 6, ["rue de la Forêt", "rue de By", "rue Rosa Bonheur", "rue des Treilles", "route de Champagne"], [
        ("espaces_verts", problem(["Arbre tombé après la tempête"],
                                  ["Avec la tempête de cette nuit, un arbre est tombé en travers de la rue."],
                                  ["L'arbre a été débité et évacué."])),
        ("espaces_verts", problem(["Grosse branche sur la chaussée {rue}"],
                                  ["Une grosse branche barre la moitié de la chaussée, les voitures montent sur le "
                                   "trottoir."], ["La branche a été dégagée."])),
        ("eclairage_public", problem(["Lampadaire couché par le vent"],
                                     ["Le vent a couché un lampadaire sur le trottoir, les fils sont apparents."],
                                     ["Le candélabre a été remplacé."])),
        ("signalisation", problem(["Panneaux renversés par la tempête"],
                                  ["Plusieurs panneaux de signalisation ont été renversés par le vent cette nuit."],
                                  ["Les panneaux ont été remis en place."])),
    ]),
    (7, 4, 25, 4, ["quai Victor Hugo", "rue du Port"], [
        ("bruit", problem(["Musique tardive à la guinguette"],
                          ["La guinguette du port passe de la musique amplifiée bien après minuit ; les fenêtres "
                           "ouvertes, on ne peut pas dormir."],
                          ["L'exploitant de la guinguette a été reçu en mairie : la musique s'arrêtera à "
                           "minuit."])),
        ("bruit", problem(["Bruit des soirées au bord de l'eau"],
                          ["Les soirées au bord de l'eau se terminent tous les samedis à 3 h du matin."],
                          ["Des patrouilles ont été organisées les samedis soir."])),
    ]),
]

CHANNELS = [("web", 35), ("app", 25), ("phone", 18), ("counter", 12), ("mail", 10)]
OPENERS = ["", "", "Bonjour, ", "Bonjour, ", "Madame, Monsieur, "]
CLOSINGS = ["", "", "Merci d'avance.", "Merci de faire le nécessaire.", "Cordialement.",
            "Pouvez-vous intervenir rapidement ?", "Merci pour votre réactivité.", "Bonne journée."]
FOLLOW_UPS = ["C'est la deuxième fois que je le signale.", "Ça dure depuis plus de quinze jours.",
              "Plusieurs voisins sont dans le même cas.", "Je peux envoyer des photos si besoin.",
              "Il faudrait intervenir avant qu'il y ait un accident.", ""]
ACKS = ["Bonjour, nous avons bien reçu votre signalement et l'avons transmis {to}. Merci de votre vigilance.",
        "Merci pour votre signalement, transmis {to} pour examen.",
        "Bonjour, votre demande est enregistrée. Nous revenons vers vous dès que possible.",
        "Signalement bien reçu, un agent va passer sur place. Merci !"]
MID_ANSWERS = ["Nous n'oublions pas votre demande : l'intervention devrait avoir lieu prochainement.",
               "Un agent est passé constater ; l'intervention est en préparation.",
               "Merci pour les précisions. Le service s'en occupe."]
REVIEW_NOTES = ["Passage d'un agent pour constater.", "À voir avec le responsable des services techniques.",
                "Devis demandé.", "Vérifier sur place."]
REOPEN_NOTES = ["Le riverain signale que le problème est revenu.",
                "L'intervention n'a pas suffi, selon l'habitante.", "Nouveau signalement au même endroit : rouvert."]


# ---------------------------------------------------------------------------------------------------------
# Time: Europe/Paris by the EU rule (last Sunday of March and of October, 01:00 UTC), office hours, holidays.

def last_sunday(year, month):
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def paris_offset(t):
    start = dt.datetime.combine(last_sunday(t.year, 3), dt.time(1), UTC)
    end = dt.datetime.combine(last_sunday(t.year, 10), dt.time(1), UTC)
    return dt.timedelta(hours=2 if start <= t < end else 1)


def to_local(t):
    return (t + paris_offset(t)).replace(tzinfo=None)


def from_local(local):
    for hours in (2, 1):
        t = local.replace(tzinfo=UTC) - dt.timedelta(hours=hours)
        if paris_offset(t) == dt.timedelta(hours=hours):
            return t
    return local.replace(tzinfo=UTC) - dt.timedelta(hours=1)


def easter(year):
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    return dt.date(year, month, (h + l - 7 * m + 114) % 31 + 1)


def is_holiday(day):
    fixed = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}
    e = easter(day.year)
    return (day.month, day.day) in fixed or day in (e + dt.timedelta(days=1), e + dt.timedelta(days=39),
                                                      e + dt.timedelta(days=50))


def is_working_day(day):
    return day.weekday() < 5 and not is_holiday(day)


SLOTS = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]


def office_time(rng, earliest, spread_minutes=60):
    """A moment during the town hall's office hours, at or a little after `earliest` (UTC)."""
    local = to_local(earliest)
    day = local.date()
    while True:
        if is_working_day(day):
            for begin, end in SLOTS:
                slot_start = dt.datetime.combine(day, begin)
                slot_end = dt.datetime.combine(day, end)
                if local < slot_end:
                    start = max(local, slot_start)
                    room = (slot_end - start).total_seconds() / 60 - 1
                    minutes = rng.uniform(2, max(2.5, min(spread_minutes, room)))
                    return from_local(start + dt.timedelta(minutes=minutes)).replace(microsecond=0)
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_day(t):
    return to_local(t).date()


def french_date(day):
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{day.day}{'er' if day.day == 1 else ''} {months[day.month - 1]}"


# ---------------------------------------------------------------------------------------------------------
# Places.

def inside(point, ring):
    x, y = point
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


class Places:
    def __init__(self, rng, polygons):
        self.polygons = polygons  # slug → outer ring [(lon, lat)]
        missing = sorted({s[1] for s in STREETS if s[1] not in polygons and s[1] not in BOXES})
        if missing:
            raise SystemExit(f"generate_grievances: no polygon for {', '.join(missing)}: use a database "
                             "created from examples/thomery.yaml")
        self.anchor = {}
        for name, slug, *_ in STREETS:
            self.anchor[name] = self.random_point(rng, slug)

    def in_slug(self, point, slug):
        return slug in self.polygons and inside(point, self.polygons[slug])

    def in_any(self, point):
        return any(inside(point, ring) for ring in self.polygons.values())

    def random_point(self, rng, slug):
        if slug in self.polygons:
            ring = self.polygons[slug]
            box = (min(p[0] for p in ring), min(p[1] for p in ring), max(p[0] for p in ring),
                   max(p[1] for p in ring))
        else:
            box = BOXES[slug]
        for _ in range(1000):
            point = (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]))
            if (slug in self.polygons and self.in_slug(point, slug)) or \
                    (slug not in self.polygons and not self.in_any(point)):
                return point
        raise SystemExit(f"generate_grievances: cannot place a point in '{slug}'")

    def near(self, rng, street, slug):
        """A point near the street's anchor, in the same neighbourhood (or outside all polygons)."""
        ax, ay = self.anchor[street]
        for _ in range(50):
            point = (ax + rng.uniform(-0.0008, 0.0008), ay + rng.uniform(-0.0005, 0.0005))
            if (slug in self.polygons and self.in_slug(point, slug)) or \
                    (slug not in self.polygons and not self.in_any(point)):
                return point
        return ax, ay


def pick(rng, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights)[0]


def ascii_fold(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# ---------------------------------------------------------------------------------------------------------
# Planning.

class Plan:
    """One grievance: what `grievance add` receives, then its history."""

    def __init__(self):
        self.ref = None
        self.add_args = []
        self.steps = []  # (time, argv after "grievance"); "{ref}" and "{like}" are replaced when run
        self.like = None  # the Plan this one duplicates ("{like}" in the arguments), merged into it
        self.status = "new"
        self.problem = None


def plan_all(rng, start, horizon, polygons):
    places = Places(rng, polygons)
    street_by_name = {s[0]: s for s in STREETS}
    contacts = []
    for _ in range(140):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        f, l = ascii_fold(first).lower().replace(" ", ""), ascii_fold(last).lower().replace(" ", "")
        email = rng.choice([f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l}77", f"{l}.{f}", f"{f}.{l}{rng.randint(1, 99)}"])
        phone = f"01 64 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        contacts.append((f"{first} {last}", f"{email}@example.fr", phone))
    contact_weights = [1.0 / (1 + i) ** 0.6 for i in range(len(contacts))]

    end = local_day(horizon)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]

    def day_weight(day):
        w = sum(c["weight"] * c["months"][day.month - 1] for c in CATEGORIES.values())
        if not is_working_day(day):
            w *= 0.55 if day.weekday() == 5 else 0.45
        return w

    base = []  # (day, category, episode or None)
    for day in rng.choices(days, [day_weight(d) for d in days], k=305):
        weights = [(code, c["weight"] * c["months"][day.month - 1]) for code, c in CATEGORIES.items()]
        base.append((day, pick(rng, weights), None))
    for episode in EPISODES:
        month, first_day, length, count, streets, items = episode
        begin = next((d for d in days if d.month == month and d.day == first_day), None)
        if begin is None:
            continue
        for _ in range(count):
            day = begin + dt.timedelta(days=int(rng.triangular(0, length, 1)))
            if day in days:
                code, what = rng.choice(items)
                base.append((day, code, (streets, what)))

    plans = []
    for day, code, episode in base:
        plans.append(plan_one(rng, day, code, episode, horizon, places, street_by_name, contacts,
                              contact_weights))
    plans.sort(key=lambda p: p.received)

    # Duplicates: a second report of the same problem while the first one was still open.
    originals = [p for p in plans if p.lat is not None and p.status != "hidden" and p.closed_at and
                 p.closed_at - p.received > dt.timedelta(days=4)]
    for original in rng.sample(originals, min(10, len(originals))):
        received = original.received + dt.timedelta(days=rng.uniform(0.5, min(10, (original.closed_at -
                                                                                    original.received).days)))
        if received >= horizon - dt.timedelta(days=2):
            continue
        dup = plan_one(rng, local_day(received), original.category, None, horizon, places, street_by_name,
                       contacts, contact_weights, like=original, received=received)
        plans.append(dup)
    recent = [p for p in plans if p.status in ("open", "in_review", "planned", "in_progress") and
              p.lat is not None and horizon - dt.timedelta(days=40) < p.received < horizon - dt.timedelta(days=8)]
    for original in rng.sample(recent, min(3, len(recent))):
        for _ in range(rng.choice([1, 1, 2])):
            received = horizon - dt.timedelta(days=rng.uniform(0.3, 6))
            dup = plan_one(rng, local_day(received), original.category, None, horizon, places, street_by_name,
                           contacts, contact_weights, like=original, received=received)
            plans.append(dup)

    # Two grievances the moderator hides.
    for hidden in [
        ("Le maire et ses incapables", "Vous êtes tous des incapables, rien ne marche dans cette commune et vous "
                                       "vous en fichez. Honte à vous !",
         "Masquée par la modération : propos injurieux (charte d'utilisation)."),
        ("Test", "test test test", "Masquée par la modération : message de test sans objet."),
    ]:
        day = rng.choice(days[30:-10])
        plans.append(plan_one(rng, day, rng.choice(["voirie", "proprete"]), None, horizon, places,
                              street_by_name, contacts, contact_weights, hidden=hidden))
    plans.sort(key=lambda p: p.received)
    return plans


def plan_one(rng, day, code, episode, horizon, places, street_by_name, contacts, contact_weights, like=None,
             received=None, hidden=None):
    cat = CATEGORIES[code]
    p = Plan()
    p.category = code

    # Channel and time of reception.
    if received is not None:
        channel = pick(rng, CHANNELS)
        if channel in ("phone", "counter", "mail"):
            received = office_time(rng, received)
            if received >= horizon:
                channel, received = "web", horizon - dt.timedelta(minutes=rng.uniform(30, 600))
    elif is_working_day(day):
        channel = pick(rng, CHANNELS)
    else:
        channel = pick(rng, [("web", 55), ("app", 45)])
    if received is None:
        midnight = from_local(dt.datetime.combine(day, dt.time(0)))
        if channel in ("web", "app"):
            hour = pick(rng, [(h, w) for h, w in zip(range(6, 24), [1, 3, 5, 6, 6, 6, 7, 8, 6, 5, 5, 6, 7, 9, 10,
                                                                       10, 8, 5])])
            received = from_local(dt.datetime.combine(day, dt.time(hour)) +
                                  dt.timedelta(seconds=rng.randint(0, 3599)))
        elif channel == "mail":
            received = office_time(rng, from_local(dt.datetime.combine(day, dt.time(9))), 150)
        else:
            received = office_time(rng, midnight + dt.timedelta(hours=rng.uniform(8, 17)), 200)
        received = min(received, horizon - dt.timedelta(minutes=rng.uniform(5, 300)))
    p.received = received.replace(microsecond=0)

    # What and where.
    if like is not None:
        p.problem = like.problem
        street = street_by_name[like.street]
    elif episode is not None:
        p.problem = episode[1]
        street = street_by_name[rng.choice(episode[0])]
    else:
        p.problem = pick(rng, [(what, what["w"]) for what in cat["problems"]])
        streets = [street_by_name[name] for name in p.problem["at"]] if p.problem["at"] else STREETS
        street = pick(rng, [(s, s[3] * cat["streets"].get(s[0], 1)) for s in streets])
    name, slug, max_number, _, landmarks = street
    p.street = name
    number = rng.randint(1, max_number) if max_number else None
    form = rng.random()
    if number and form < 0.6:
        address = f"{number} {name}"
    elif form < 0.85:
        address = f"{name}, {rng.choice(landmarks)}"
    else:
        address = name
    with_point = rng.random() < {"app": 0.95, "web": 0.75, "phone": 0.5, "counter": 0.55, "mail": 0.35}[channel]
    if like is not None and like.lat is not None:
        with_point = True
        p.lat = round(like.lat + rng.uniform(-0.00015, 0.00015), 6)
        p.lon = round(like.lon + rng.uniform(-0.0002, 0.0002), 6)
        if (slug in places.polygons and not places.in_slug((p.lon, p.lat), slug)) or \
                (slug not in places.polygons and places.in_any((p.lon, p.lat))):
            p.lat, p.lon = like.lat, like.lon
    elif with_point:
        lon, lat = places.near(rng, name, slug)
        p.lat, p.lon = round(lat, 6), round(lon, 6)
    else:
        p.lat = p.lon = None

    # Texts.
    fill = dict(rue=name, num=number or rng.randint(2, 40), num2=(number or 10) + rng.randint(6, 30),
                n=rng.randint(101, 349))
    titles, details = p.problem["titles"], p.problem["details"]
    usable = [i for i, title in enumerate(titles) if number or "{num}" not in title] or [0]
    i = rng.choice(usable)
    title = titles[i].replace(" devant le {num}", "")
    if rng.random() < 0.7:  # the street is in the address; few people repeat it in the title
        title = title.replace(" {rue}", "")
    title = title.format(**fill)
    title = title[0].upper() + title[1:]
    detail = (details[i] if p.problem["paired"] else rng.choice(details)).format(**fill)
    parts = [detail]
    if rng.random() < 0.35:
        parts.append(rng.choice(FOLLOW_UPS))
    if like is not None and rng.random() < 0.6:
        parts.append(rng.choice(["Je ne sais pas si quelqu'un l'a déjà signalé.",
                                 "Mon voisin l'a peut-être déjà signalé, mais rien n'a changé."]))
    text = " ".join(x for x in parts if x)
    if channel == "phone":
        description = f"Appel d'un habitant : «\u00a0{text}\u00a0»"
    elif channel == "counter":
        description = f"Signalé à l'accueil de la mairie : «\u00a0{text}\u00a0»"
    elif channel == "mail":
        description = f"Courrier reçu en mairie : «\u00a0{text}\u00a0»"
    else:
        opener = rng.choice(OPENERS)
        description = (opener + (text[0].lower() + text[1:] if opener else text) + " " +
                       rng.choice(CLOSINGS)).strip()
    if hidden:
        title, description, _ = hidden
        channel = "web"
    p.title = title

    # Who.
    args = ["add", "--json", "--category", code, "--title", title, "--description", description,
            "--address", address, "--postcode", POSTCODE, "--channel", channel, "--received", iso(received)]
    if p.lat is not None:
        args += ["--lat", f"{p.lat:.6f}", "--lon", f"{p.lon:.6f}"]
    # The locator places a point inside a polygon; otherwise the clerk names the street's neighbourhood, except
    # for a few reports sent with a point from the website or the app, which nobody places.
    if p.lat is None or not places.in_any((p.lon, p.lat)):
        if p.lat is None or channel not in ("web", "app") or rng.random() >= 0.1:
            args += ["--neighbourhood", slug]
    member_share = {"web": 0.55, "app": 0.65, "phone": 0.1, "counter": 0.1, "mail": 0.05}[channel]
    if rng.random() < member_share:
        local = [(r[1], r[3] * (4 if r[2] == slug else 1)) for r in RESIDENTS]
        args += ["--reporter", pick(rng, local)]
    else:
        name_, email, phone = rng.choices(contacts, contact_weights)[0]
        if channel in ("web", "app"):
            args += ["--contact-name", name_, "--contact-email", email] if rng.random() < 0.8 else \
                ["--contact-email", email]
        elif channel == "phone":
            args += ["--contact-name", name_, "--contact-phone", phone]
        elif channel == "counter":
            args += ["--contact-name", name_] + (["--contact-phone", phone] if rng.random() < 0.6 else [])
        elif rng.random() < 0.8:  # mail; some letters are not signed
            args += ["--contact-name", name_]
    if (code in ("bruit", "animaux") and rng.random() < 0.25) or rng.random() < 0.015:
        args.append("--private")
    p.add_args = args
    plan_history(rng, p, cat, channel, horizon, like, hidden)
    return p


def handler(rng):
    return pick(rng, HANDLERS)


def follower(rng, category, previous):
    """The staff member put in charge: Julien follows the works, Marie the rest, mostly; never the previous one."""
    usual, other = (JULIEN, MARIE) if category in WORKS else (MARIE, JULIEN)
    if previous is not None:
        return other if previous == usual else usual
    return usual if rng.random() < 0.8 else other


def plan_history(rng, p, cat, channel, horizon, like, hidden):
    steps = []

    def step(t, *argv, by=True):
        argv = list(argv)
        who = handler(rng) if by is True else by
        if who:
            argv += ["--by", who]
        steps.append((t, argv))
        return t

    assigned = []

    def assign(t, before=None, by=True):
        """Puts a staff member in charge a little after t (and before `before`); returns the time."""
        a = office_time(rng, t + dt.timedelta(minutes=rng.uniform(3, 40)), 30)
        if before is not None and a >= before:
            return t
        who = follower(rng, p.category, assigned[-1] if assigned else None)
        assigned.append(who)
        return step(a, "assign", "{ref}", "--to", who, "--at", iso(a), by=by)

    p.closed_at = None
    if hidden:
        t = office_time(rng, p.received + dt.timedelta(hours=rng.uniform(1, 20)))
        step(t, "status", "{ref}", "hidden", "--at", iso(t), "--note", hidden[2], by=MODERATOR)
        p.status = "hidden"
        finish(p, steps, horizon)
        return

    # Acknowledgement, 0 to 6 days after reception.
    if channel in ("phone", "counter"):
        delay = 0 if rng.random() < 0.6 else rng.choice([0, 1, 1, 2])
    elif channel == "mail":
        delay = rng.choice([1, 1, 2, 2, 3, 4, 5])
    else:
        delay = pick(rng, [(0, 45), (1, 25), (2, 12), (3, 8), (4, 5), (5, 3), (6, 2)])
    ack = office_time(rng, p.received + dt.timedelta(days=delay), 120 if delay else 45)
    if ack - p.received > dt.timedelta(days=6, hours=20):
        ack = p.received + dt.timedelta(days=6, hours=rng.uniform(0, 12))

    if like is not None:  # a duplicate: sometimes acknowledged first, then merged into the one it repeats
        p.like = like
        t = ack
        if rng.random() < 0.4:
            step(t, "respond", "{ref}", ack_text(rng, p), "--at", iso(t))
            t = office_time(rng, t + dt.timedelta(minutes=rng.uniform(5, 120)), 30)
        step(t, "merge", "{ref}", "--into", "{like}", "--at", iso(t))
        finish(p, steps, horizon)
        return

    def answers(kind):
        return p.problem.get(kind) or cat.get(kind) or []

    no_action, not_competent, transferred = cat["outcomes"]
    elsewhere = cat.get("transferred_at", {}).get(p.street)
    if elsewhere:
        transferred = max(transferred, 0.3)
    u = rng.random()
    outcome = "resolved"
    if u < no_action and answers("no_action"):
        outcome = "no_action"
    elif no_action <= u < no_action + not_competent and answers("not_competent"):
        outcome = "not_competent"
    elif no_action + not_competent <= u < no_action + not_competent + transferred and \
            (answers("transferred") or elsewhere):
        outcome = "transferred"

    if outcome != "resolved":
        t = ack
        if rng.random() < 0.6:
            if rng.random() < 0.6:
                step(t, "respond", "{ref}", ack_text(rng, p), "--at", iso(t))
            else:
                step(t, "status", "{ref}", "open", "--at", iso(t))
            if outcome == "no_action" and rng.random() < 0.5:
                t = office_time(rng, t + dt.timedelta(days=rng.uniform(0.5, 4)))
                step(t, "status", "{ref}", "in_review", "--at", iso(t), "--note", rng.choice(REVIEW_NOTES))
            t = office_time(rng, t + dt.timedelta(days=rng.uniform(0.3, 8)))
        note = elsewhere if outcome == "transferred" and elsewhere else rng.choice(answers(outcome))
        step(t, "status", "{ref}", outcome, "--at", iso(t), "--public", "--note", note)
        finish(p, steps, horizon)
        return

    # Resolved, some day: the total delay scatters around the category's target (about one in five late).
    sla = cat["sla"]
    total = sla * math.exp(rng.gauss(math.log(cat["speed"]), 0.75))
    resolve_at = p.received + dt.timedelta(days=total)
    if rng.random() < 0.55:
        step(ack, "respond", "{ref}", ack_text(rng, p), "--at", iso(ack))
    else:
        step(ack, "status", "{ref}", "open", "--at", iso(ack))
    t = ack
    resolve_at = office_time(rng, max(resolve_at, t + dt.timedelta(hours=2)), 180)
    forgotten = rng.random() < (0.06 if p.category in WORKS else 0.025)  # left open and out of sight
    if forgotten and rng.random() < 0.3:
        t = assign(t, resolve_at)
    span = resolve_at - t
    review = office_time(rng, t + span * rng.uniform(0.05, 0.3))
    if rng.random() < 0.22 and review < resolve_at:
        t = step(review, "status", "{ref}", "in_review", "--at", iso(review),
                 *(["--note", rng.choice(REVIEW_NOTES)] if rng.random() < 0.6 else []))
        if not assigned and rng.random() < 0.6:  # someone is put in charge of looking into it
            t = assign(t, resolve_at)
    plan_time = office_time(rng, t + (resolve_at - t) * rng.uniform(0.2, 0.5))
    if p.category in WORKS and span > dt.timedelta(days=4) and plan_time < resolve_at and rng.random() < 0.4:
        t = plan_time
        expected = local_day(resolve_at)
        if rng.random() < 0.25:  # the work slips past the announced date
            resolve_at = office_time(rng, resolve_at + dt.timedelta(days=rng.uniform(2, 12)), 180)
        step(t, "status", "{ref}", "planned", "--expected", expected.isoformat(), "--at", iso(t), "--public",
             "--note", rng.choice(answers("planned") or ["L'intervention est prévue le {date}."]).format(
                 date=french_date(expected)))
        if not assigned and rng.random() < 0.4:  # someone follows the work until it is done
            t = assign(t, resolve_at)
        if to_local(resolve_at).date() > expected and rng.random() < 0.5:
            replan = office_time(rng, from_local(dt.datetime.combine(expected, dt.time(8))))
            if replan > t and replan < resolve_at:
                new_expected = local_day(resolve_at)
                step(replan, "status", "{ref}", "planned", "--expected", new_expected.isoformat(), "--at",
                     iso(replan), "--public", "--note",
                     f"L'intervention est reportée au {french_date(new_expected)}.")
                t = replan
    if rng.random() < 0.10:
        mid = office_time(rng, t + (resolve_at - t) * rng.uniform(0.2, 0.6))
        if mid < resolve_at:
            t = step(mid, "respond", "{ref}", rng.choice(MID_ANSWERS), "--at", iso(mid))
    if rng.random() < 0.35:
        prog = office_time(rng, t + (resolve_at - t) * rng.uniform(0.5, 0.95))
        if prog < resolve_at:
            t = step(prog, "status", "{ref}", "in_progress", "--at", iso(prog),
                     *(["--note", rng.choice(answers("progress"))] if answers("progress") and rng.random() < 0.5
                       else []))
    if not forgotten:
        resolve_at = max(resolve_at, t + dt.timedelta(minutes=10))
        note = ["--public", "--note", rng.choice(answers("resolved"))] if rng.random() < 0.8 else []
        step(resolve_at, "status", "{ref}", "resolved", "--at", iso(resolve_at), *note)
        if rng.random() < 0.035:
            reopen = office_time(rng, resolve_at + dt.timedelta(days=rng.uniform(1, 20)))
            t = step(reopen, "status", "{ref}", "open", "--at", iso(reopen), "--note", rng.choice(REOPEN_NOTES))
            if rng.random() < 0.5:  # someone else takes it over
                t = assign(t)
            again = office_time(rng, t + dt.timedelta(days=sla * rng.uniform(0.1, 0.8)))
            step(again, "status", "{ref}", "resolved", "--at", iso(again), "--public", "--note",
                 "Une nouvelle intervention a été faite. " + rng.choice(answers("resolved")))
    finish(p, steps, horizon)
    # Recent ones still open: the head of services hands some over to a member of staff.
    if p.status in ("open", "in_review", "planned", "in_progress") and not assigned and \
            p.steps[-1][0] > horizon - dt.timedelta(days=21) and rng.random() < 0.6:
        a = office_time(rng, p.steps[-1][0] + dt.timedelta(days=rng.uniform(0.2, 3)))
        if a < horizon:
            p.steps.append((a, ["assign", "{ref}", "--to", follower(rng, p.category, None), "--at", iso(a),
                                "--by", HEAD]))


def finish(p, steps, horizon):
    """Keeps the steps that happened before the end of the period; the status is the last one kept."""
    kept = []
    for s in steps:
        if s[0] >= horizon:
            break
        if not kept or s[0] > kept[-1][0]:  # never before the last change: the CLI would refuse it
            kept.append(s)
    p.steps = kept
    status = "new"
    p.closed_at = None
    for t, argv in kept:
        if argv[0] == "status":
            status = argv[2]
        elif argv[0] == "merge":
            status = "duplicate"
        elif argv[0] == "respond" and status == "new":
            status = "open"
        if status in ("resolved", "no_action", "not_competent", "duplicate", "transferred"):
            p.closed_at = p.closed_at or t
        elif status == "open":
            p.closed_at = None
    p.status = status
    if p.closed_at is None and len(kept) < len(steps):
        p.closed_at = steps[-1][0]  # would close after the period: counts as open for a while


def ack_text(rng, p):
    to = {"espaces_verts": "au service des espaces verts", "eau_assainissement": "au service eau et assainissement",
          "stationnement": "à la police municipale", "bruit": "à la police municipale",
          "animaux": "à la police municipale",
          "collecte_dechets": "à la communauté d'agglomération, chargée de la collecte"}
    return rng.choice(ACKS).format(to=to.get(p.category, "aux services techniques"))


# ---------------------------------------------------------------------------------------------------------
# Replay through the CLI.

class Cli:
    def __init__(self, binary, db):
        self.binary, self.db = binary, db
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *args):
        argv = [self.binary, "--db", self.db, "-q", *args]
        result = subprocess.run(argv, capture_output=True, text=True)
        with self.lock:
            self.calls += 1
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}\n{result.stderr.strip()}")
        if result.stderr.strip():
            print(result.stderr.strip(), file=sys.stderr)
        return result.stdout


def resolve(argv, p):
    """The arguments with the references, known once the grievances are added."""
    out = [p.ref if a == "{ref}" else a for a in argv]
    if p.like is not None:
        out = [a.replace("{like}", p.like.ref) for a in out]
    return out


def replay(cli, plans, jobs):
    """Adds the grievances in the order received (references follow the dates) while workers replay the
    histories. A grievance and the duplicates merged into it form one group, replayed by one worker in time
    order once all of them are added: a merge is recorded between the steps of the grievance it goes into."""
    groups = {}  # id of the grievance → the grievance and its duplicates
    for p in plans:
        groups.setdefault(id(p.like or p), []).append(p)
    waiting = {key: len(group) for key, group in groups.items()}
    work = queue.Queue()
    errors = []

    def worker():
        while True:
            group = work.get()
            if group is None:
                return
            try:
                if not errors:
                    steps = sorted(((t, i, p, argv) for i, p in enumerate(group) for t, argv in p.steps),
                                   key=lambda s: s[:2])
                    for _, _, p, argv in steps:
                        cli("grievance", *resolve(argv, p))
            except Exception as e:  # reported once all workers stop
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    try:
        for p in plans:
            if errors:
                break
            p.ref = json.loads(cli("grievance", *p.add_args))["grievance"]["reference"]
            key = id(p.like or p)
            waiting[key] -= 1
            if not waiting[key]:
                work.put(groups[key])
    except Exception as e:
        errors.append(e)
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="database created with 'voisinage init --from "
                                                     "examples/thomery.yaml'")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "cmd", "voisinage"),
                        help="the voisinage binary (default: build/cmd/voisinage)")
    parser.add_argument("--seed", type=int, default=77810, help="random seed (default: 77810)")
    parser.add_argument("--end", help="the year of grievances ends when this day starts, YYYY-MM-DD (default: "
                                      "today); the same seed and end day give the same data")
    parser.add_argument("--jobs", type=int, default=3, help="histories replayed in parallel (default: 3)")
    parser.add_argument("--dry-run", action="store_true", help="plan and print the summary, record nothing")
    args = parser.parse_args()

    today = to_local(dt.datetime.now(UTC)).date()
    try:
        end = dt.date.fromisoformat(args.end) if args.end else today
    except ValueError:
        parser.error(f"invalid --end '{args.end}': use YYYY-MM-DD")
    if end > today:
        parser.error(f"--end {end} is in the future")
    # Everything happens before the end day's midnight (town time), so the same end day gives the same data.
    horizon = from_local(dt.datetime.combine(end, dt.time(0)))
    try:
        start = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28)

    began = time.monotonic()
    cli = Cli(args.bin, args.db)
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"generate_grievances: no voisinage binary at '{args.bin}' (build it with scripts/build, "
                         "or give --bin)")
    if not os.path.exists(args.db):
        raise SystemExit(f"generate_grievances: no database '{args.db}' (create it with 'voisinage init')")
    # A connection held open (it only reads) keeps each CLI process from being the last one on the file, which
    # checkpoints and deletes the WAL when it closes: about 13 ms saved on each of 1,300 commands.
    keeper = sqlite3.connect(args.db)
    try:
        keeper.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        statuses = "new,open,in_review,planned,in_progress,resolved,no_action,not_competent,duplicate," \
                   "transferred,hidden"
        queries = [("neighbourhood", "list", "--json"), ("grievance", "categories", "--json")]
        if not args.dry_run:
            queries += [("member", "list", "--json", "--all"),
                        ("grievance", "list", "--json", "--limit", "1", "--status", statuses)]
        with concurrent.futures.ThreadPoolExecutor(len(queries)) as pool:  # they only read
            answers = [json.loads(out) for out in pool.map(lambda q: cli(*q), queries)]
        if not args.dry_run and answers[3]:
            raise SystemExit(f"generate_grievances: '{args.db}' already has grievances; use a fresh database")
        polygons = {}
        for n in answers[0]:
            if n.get("polygon") and n["polygon"].get("type") == "Polygon":
                polygons[n["slug"]] = [tuple(x) for x in n["polygon"]["coordinates"][0][:-1]]
        delays = {c["code"]: c["sla_days"] for c in answers[1] if c.get("active", True)}
        missing = sorted(set(CATEGORIES) - set(delays))
        if missing:
            raise SystemExit(f"generate_grievances: no active category {', '.join(missing)}: use a database "
                             "created from examples/thomery.yaml")
        for code, cat in CATEGORIES.items():
            cat["sla"] = delays[code]
        plans = plan_all(random.Random(args.seed), start, horizon, polygons)
        if args.dry_run:
            print_summary(plans, start, end, cli.calls, time.monotonic() - began)
            return
        members = {m["email"] for m in answers[2]}
        for name, email, slug, _ in RESIDENTS:
            if email not in members:
                cli("member", "add", "--name", name, "--email", email, "--neighbourhood", slug)
        replay(cli, plans, max(1, args.jobs))
    except RuntimeError as e:
        raise SystemExit(f"generate_grievances: command failed: {e}")
    finally:
        keeper.close()

    print_summary(plans, start, end, cli.calls, time.monotonic() - began)


def print_summary(plans, start, end, calls, seconds):
    counts = {}
    for p in plans:
        counts[p.status] = counts.get(p.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))
    print(f"{len(plans)} grievances received from {start} to {end - dt.timedelta(days=1)} ({summary}); "
          f"{calls} commands in {seconds:.1f} s")


if __name__ == "__main__":
    main()
