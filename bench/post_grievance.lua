-- wrk script of bench/serve: POST /api/v1/grievances with a valid grievance (JSON, category of
-- examples/thomery.yaml, a point and an address in Thomery). The token comes from the command line:
--   wrk -s bench/post_grievance.lua -H "Authorization: Bearer vsn_..." http://127.0.0.1:PORT/api/v1/grievances
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"category": "voirie", "title": "Nid-de-poule profond devant le 12 rue Sadi Carnot",
"description": "Un nid-de-poule d'une quarantaine de centimètres s'est formé sur la chaussée, côté pair, juste avant le passage piéton. Les cyclistes font un écart dangereux pour l'éviter, surtout le soir quand la rue est mal éclairée.",
"address": "12 rue Sadi Carnot", "postcode": "77810", "lat": 48.40652, "lon": 2.78441}]]
