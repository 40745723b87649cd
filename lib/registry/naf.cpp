#include "lib/registry/naf.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <span>

namespace voisinage {

namespace {

// Every sub-class of the divisions a town directory shows, with its official INSEE label (NAF rev. 2, in
// force since 2008): divisions 10, 45 to 47, 55, 56, 68, 69, 71, 74, 75, 85 to 88, 90, 91 and 93 to 96. A
// code of any other division is labelled by kDivisions. Sorted by code, for binary search.
constexpr NafActivity kActivities[] = {
    {"10.11Z", "Transformation et conservation de la viande de boucherie"},
    {"10.12Z", "Transformation et conservation de la viande de volaille"},
    {"10.13A", "Préparation industrielle de produits à base de viande"},
    {"10.13B", "Charcuterie"},
    {"10.20Z", "Transformation et conservation de poisson, de crustacés et de mollusques"},
    {"10.31Z", "Transformation et conservation de pommes de terre"},
    {"10.32Z", "Préparation de jus de fruits et légumes"},
    {"10.39A", "Autre transformation et conservation de légumes"},
    {"10.39B", "Transformation et conservation de fruits"},
    {"10.41A", "Fabrication d'huiles et graisses brutes"},
    {"10.41B", "Fabrication d'huiles et graisses raffinées"},
    {"10.42Z", "Fabrication de margarine et graisses comestibles similaires"},
    {"10.51A", "Fabrication de lait liquide et de produits frais"},
    {"10.51B", "Fabrication de beurre"},
    {"10.51C", "Fabrication de fromage"},
    {"10.51D", "Fabrication d'autres produits laitiers"},
    {"10.52Z", "Fabrication de glaces et sorbets"},
    {"10.61A", "Meunerie"},
    {"10.61B", "Autres activités du travail des grains"},
    {"10.62Z", "Fabrication de produits amylacés"},
    {"10.71A", "Fabrication industrielle de pain et de pâtisserie fraîche"},
    {"10.71B", "Cuisson de produits de boulangerie"},
    {"10.71C", "Boulangerie et boulangerie-pâtisserie"},
    {"10.71D", "Pâtisserie"},
    {"10.72Z", "Fabrication de biscuits, biscottes et pâtisseries de conservation"},
    {"10.73Z", "Fabrication de pâtes alimentaires"},
    {"10.81Z", "Fabrication de sucre"},
    {"10.82Z", "Fabrication de cacao, chocolat et de produits de confiserie"},
    {"10.83Z", "Transformation du thé et du café"},
    {"10.84Z", "Fabrication de condiments et assaisonnements"},
    {"10.85Z", "Fabrication de plats préparés"},
    {"10.86Z", "Fabrication d'aliments homogénéisés et diététiques"},
    {"10.89Z", "Fabrication d'autres produits alimentaires n.c.a."},
    {"10.91Z", "Fabrication d'aliments pour animaux de ferme"},
    {"10.92Z", "Fabrication d'aliments pour animaux de compagnie"},
    {"45.11Z", "Commerce de voitures et de véhicules automobiles légers"},
    {"45.19Z", "Commerce d'autres véhicules automobiles"},
    {"45.20A", "Entretien et réparation de véhicules automobiles légers"},
    {"45.20B", "Entretien et réparation d'autres véhicules automobiles"},
    {"45.31Z", "Commerce de gros d'équipements automobiles"},
    {"45.32Z", "Commerce de détail d'équipements automobiles"},
    {"45.40Z", "Commerce et réparation de motocycles"},
    {"46.11Z",
     "Intermédiaires du commerce en matières premières agricoles, animaux vivants, matières premières "
     "textiles et produits semi-finis"},
    {"46.12A", "Centrales d'achat de carburant"},
    {"46.12B", "Autres intermédiaires du commerce en combustibles, métaux, minéraux et produits chimiques"},
    {"46.13Z", "Intermédiaires du commerce en bois et matériaux de construction"},
    {"46.14Z", "Intermédiaires du commerce en machines, équipements industriels, navires et avions"},
    {"46.15Z", "Intermédiaires du commerce en meubles, articles de ménage et quincaillerie"},
    {"46.16Z",
     "Intermédiaires du commerce en textiles, habillement, fourrures, chaussures et articles en cuir"},
    {"46.17A", "Centrales d'achat alimentaires"},
    {"46.17B", "Autres intermédiaires du commerce en denrées, boissons et tabac"},
    {"46.18Z", "Intermédiaires spécialisés dans le commerce d'autres produits spécifiques"},
    {"46.19A", "Centrales d'achat non alimentaires"},
    {"46.19B", "Autres intermédiaires du commerce en produits divers"},
    {"46.21Z",
     "Commerce de gros (commerce interentreprises) de céréales, de tabac non manufacturé, de semences et "
     "d'aliments pour le bétail"},
    {"46.22Z", "Commerce de gros (commerce interentreprises) de fleurs et plantes"},
    {"46.23Z", "Commerce de gros (commerce interentreprises) d'animaux vivants"},
    {"46.24Z", "Commerce de gros (commerce interentreprises) de cuirs et peaux"},
    {"46.31Z", "Commerce de gros (commerce interentreprises) de fruits et légumes"},
    {"46.32A", "Commerce de gros (commerce interentreprises) de viandes de boucherie"},
    {"46.32B", "Commerce de gros (commerce interentreprises) de produits à base de viande"},
    {"46.32C", "Commerce de gros (commerce interentreprises) de volailles et gibier"},
    {"46.33Z",
     "Commerce de gros (commerce interentreprises) de produits laitiers, œufs, huiles et matières grasses "
     "comestibles"},
    {"46.34Z", "Commerce de gros (commerce interentreprises) de boissons"},
    {"46.35Z", "Commerce de gros (commerce interentreprises) de produits à base de tabac"},
    {"46.36Z", "Commerce de gros (commerce interentreprises) de sucre, chocolat et confiserie"},
    {"46.37Z", "Commerce de gros (commerce interentreprises) de café, thé, cacao et épices"},
    {"46.38A", "Commerce de gros (commerce interentreprises) de poissons, crustacés et mollusques"},
    {"46.38B", "Commerce de gros (commerce interentreprises) alimentaire spécialisé divers"},
    {"46.39A", "Commerce de gros (commerce interentreprises) de produits surgelés"},
    {"46.39B", "Commerce de gros (commerce interentreprises) alimentaire non spécialisé"},
    {"46.41Z", "Commerce de gros (commerce interentreprises) de textiles"},
    {"46.42Z", "Commerce de gros (commerce interentreprises) d'habillement et de chaussures"},
    {"46.43Z", "Commerce de gros (commerce interentreprises) d'appareils électroménagers"},
    {"46.44Z", "Commerce de gros (commerce interentreprises) de vaisselle, verrerie et produits d'entretien"},
    {"46.45Z", "Commerce de gros (commerce interentreprises) de parfumerie et de produits de beauté"},
    {"46.46Z", "Commerce de gros (commerce interentreprises) de produits pharmaceutiques"},
    {"46.47Z",
     "Commerce de gros (commerce interentreprises) de meubles, de tapis et d'appareils d'éclairage"},
    {"46.48Z", "Commerce de gros (commerce interentreprises) d'articles d'horlogerie et de bijouterie"},
    {"46.49Z", "Commerce de gros (commerce interentreprises) d'autres biens domestiques"},
    {"46.51Z",
     "Commerce de gros (commerce interentreprises) d'ordinateurs, d'équipements informatiques périphériques "
     "et de logiciels"},
    {"46.52Z",
     "Commerce de gros (commerce interentreprises) de composants et d'équipements électroniques et de "
     "télécommunication"},
    {"46.61Z", "Commerce de gros (commerce interentreprises) de matériel agricole"},
    {"46.62Z", "Commerce de gros (commerce interentreprises) de machines-outils"},
    {"46.63Z",
     "Commerce de gros (commerce interentreprises) de machines pour l'extraction, la construction et le "
     "génie civil"},
    {"46.64Z",
     "Commerce de gros (commerce interentreprises) de machines pour l'industrie textile et l'habillement"},
    {"46.65Z", "Commerce de gros (commerce interentreprises) de mobilier de bureau"},
    {"46.66Z", "Commerce de gros (commerce interentreprises) d'autres machines et équipements de bureau"},
    {"46.69A", "Commerce de gros (commerce interentreprises) de matériel électrique"},
    {"46.69B",
     "Commerce de gros (commerce interentreprises) de fournitures et équipements industriels divers"},
    {"46.69C",
     "Commerce de gros (commerce interentreprises) de fournitures et équipements divers pour le commerce et "
     "les services"},
    {"46.71Z", "Commerce de gros (commerce interentreprises) de combustibles et de produits annexes"},
    {"46.72Z", "Commerce de gros (commerce interentreprises) de minerais et métaux"},
    {"46.73A", "Commerce de gros (commerce interentreprises) de bois et de matériaux de construction"},
    {"46.73B",
     "Commerce de gros (commerce interentreprises) d'appareils sanitaires et de produits de décoration"},
    {"46.74A", "Commerce de gros (commerce interentreprises) de quincaillerie"},
    {"46.74B",
     "Commerce de gros (commerce interentreprises) de fournitures pour la plomberie et le chauffage"},
    {"46.75Z", "Commerce de gros (commerce interentreprises) de produits chimiques"},
    {"46.76Z", "Commerce de gros (commerce interentreprises) d'autres produits intermédiaires"},
    {"46.77Z", "Commerce de gros (commerce interentreprises) de déchets et débris"},
    {"46.90Z", "Commerce de gros (commerce interentreprises) non spécialisé"},
    {"47.11A", "Commerce de détail de produits surgelés"},
    {"47.11B", "Commerce d'alimentation générale"},
    {"47.11C", "Supérettes"},
    {"47.11D", "Supermarchés"},
    {"47.11E", "Magasins multi-commerces"},
    {"47.11F", "Hypermarchés"},
    {"47.19A", "Grands magasins"},
    {"47.19B", "Autres commerces de détail en magasin non spécialisé"},
    {"47.21Z", "Commerce de détail de fruits et légumes en magasin spécialisé"},
    {"47.22Z", "Commerce de détail de viandes et de produits à base de viande en magasin spécialisé"},
    {"47.23Z", "Commerce de détail de poissons, crustacés et mollusques en magasin spécialisé"},
    {"47.24Z", "Commerce de détail de pain, pâtisserie et confiserie en magasin spécialisé"},
    {"47.25Z", "Commerce de détail de boissons en magasin spécialisé"},
    {"47.26Z", "Commerce de détail de produits à base de tabac en magasin spécialisé"},
    {"47.29Z", "Autres commerces de détail alimentaires en magasin spécialisé"},
    {"47.30Z", "Commerce de détail de carburants en magasin spécialisé"},
    {"47.41Z",
     "Commerce de détail d'ordinateurs, d'unités périphériques et de logiciels en magasin spécialisé"},
    {"47.42Z", "Commerce de détail de matériels de télécommunication en magasin spécialisé"},
    {"47.43Z", "Commerce de détail de matériels audio et vidéo en magasin spécialisé"},
    {"47.51Z", "Commerce de détail de textiles en magasin spécialisé"},
    {"47.52A",
     "Commerce de détail de quincaillerie, peintures et verres en petites surfaces (moins de 400 m²)"},
    {"47.52B",
     "Commerce de détail de quincaillerie, peintures et verres en grandes surfaces (400 m² et plus)"},
    {"47.53Z",
     "Commerce de détail de tapis, moquettes et revêtements de murs et de sols en magasin spécialisé"},
    {"47.54Z", "Commerce de détail d'appareils électroménagers en magasin spécialisé"},
    {"47.59A", "Commerce de détail de meubles"},
    {"47.59B", "Commerce de détail d'autres équipements du foyer"},
    {"47.61Z", "Commerce de détail de livres en magasin spécialisé"},
    {"47.62Z", "Commerce de détail de journaux et papeterie en magasin spécialisé"},
    {"47.63Z", "Commerce de détail d'enregistrements musicaux et vidéo en magasin spécialisé"},
    {"47.64Z", "Commerce de détail d'articles de sport en magasin spécialisé"},
    {"47.65Z", "Commerce de détail de jeux et jouets en magasin spécialisé"},
    {"47.71Z", "Commerce de détail d'habillement en magasin spécialisé"},
    {"47.72A", "Commerce de détail de la chaussure"},
    {"47.72B", "Commerce de détail de maroquinerie et d'articles de voyage"},
    {"47.73Z", "Commerce de détail de produits pharmaceutiques en magasin spécialisé"},
    {"47.74Z", "Commerce de détail d'articles médicaux et orthopédiques en magasin spécialisé"},
    {"47.75Z", "Commerce de détail de parfumerie et de produits de beauté en magasin spécialisé"},
    {"47.76Z",
     "Commerce de détail de fleurs, plantes, graines, engrais, animaux de compagnie et aliments pour ces "
     "animaux en magasin spécialisé"},
    {"47.77Z", "Commerce de détail d'articles d'horlogerie et de bijouterie en magasin spécialisé"},
    {"47.78A", "Commerces de détail d'optique"},
    {"47.78B", "Commerces de détail de charbons et combustibles"},
    {"47.78C", "Autres commerces de détail spécialisés divers"},
    {"47.79Z", "Commerce de détail de biens d'occasion en magasin"},
    {"47.81Z", "Commerce de détail alimentaire sur éventaires et marchés"},
    {"47.82Z", "Commerce de détail de textiles, d'habillement et de chaussures sur éventaires et marchés"},
    {"47.89Z", "Autres commerces de détail sur éventaires et marchés"},
    {"47.91A", "Vente à distance sur catalogue général"},
    {"47.91B", "Vente à distance sur catalogue spécialisé"},
    {"47.99A", "Vente à domicile"},
    {"47.99B",
     "Vente par automates et autres commerces de détail hors magasin, éventaires ou marchés n.c.a."},
    {"55.10Z", "Hôtels et hébergement similaire"},
    {"55.20Z", "Hébergement touristique et autre hébergement de courte durée"},
    {"55.30Z", "Terrains de camping et parcs pour caravanes ou véhicules de loisirs"},
    {"55.90Z", "Autres hébergements"},
    {"56.10A", "Restauration traditionnelle"},
    {"56.10B", "Cafétérias et autres libres-services"},
    {"56.10C", "Restauration de type rapide"},
    {"56.21Z", "Services des traiteurs"},
    {"56.29A", "Restauration collective sous contrat"},
    {"56.29B", "Autres services de restauration n.c.a."},
    {"56.30Z", "Débits de boissons"},
    {"68.10Z", "Activités des marchands de biens immobiliers"},
    {"68.20A", "Location de logements"},
    {"68.20B", "Location de terrains et d'autres biens immobiliers"},
    {"68.31Z", "Agences immobilières"},
    {"68.32A", "Administration d'immeubles et autres biens immobiliers"},
    {"68.32B", "Supports juridiques de gestion de patrimoine immobilier"},
    {"69.10Z", "Activités juridiques"},
    {"69.20Z", "Activités comptables"},
    {"71.11Z", "Activités d'architecture"},
    {"71.12A", "Activité des géomètres"},
    {"71.12B", "Ingénierie, études techniques"},
    {"71.20A", "Contrôle technique automobile"},
    {"71.20B", "Analyses, essais et inspections techniques"},
    {"74.10Z", "Activités spécialisées de design"},
    {"74.20Z", "Activités photographiques"},
    {"74.30Z", "Traduction et interprétation"},
    {"74.90A", "Activité des économistes de la construction"},
    {"74.90B", "Activités spécialisées, scientifiques et techniques diverses"},
    {"75.00Z", "Activités vétérinaires"},
    {"85.10Z", "Enseignement pré-primaire"},
    {"85.20Z", "Enseignement primaire"},
    {"85.31Z", "Enseignement secondaire général"},
    {"85.32Z", "Enseignement secondaire technique ou professionnel"},
    {"85.41Z", "Enseignement post-secondaire non supérieur"},
    {"85.42Z", "Enseignement supérieur"},
    {"85.51Z", "Enseignement de disciplines sportives et d'activités de loisirs"},
    {"85.52Z", "Enseignement culturel"},
    {"85.53Z", "Enseignement de la conduite"},
    {"85.59A", "Formation continue d'adultes"},
    {"85.59B", "Autres enseignements"},
    {"85.60Z", "Activités de soutien à l'enseignement"},
    {"86.10Z", "Activités hospitalières"},
    {"86.21Z", "Activité des médecins généralistes"},
    {"86.22A", "Activités de radiodiagnostic et de radiothérapie"},
    {"86.22B", "Activités chirurgicales"},
    {"86.22C", "Autres activités des médecins spécialistes"},
    {"86.23Z", "Pratique dentaire"},
    {"86.90A", "Ambulances"},
    {"86.90B", "Laboratoires d'analyses médicales"},
    {"86.90C", "Centres de collecte et banques d'organes"},
    {"86.90D", "Activités des infirmiers et des sages-femmes"},
    {"86.90E",
     "Activités des professionnels de la rééducation, de l'appareillage et des pédicures-podologues"},
    {"86.90F", "Activités de santé humaine non classées ailleurs"},
    {"87.10A", "Hébergement médicalisé pour personnes âgées"},
    {"87.10B", "Hébergement médicalisé pour enfants handicapés"},
    {"87.10C", "Hébergement médicalisé pour adultes handicapés et autre hébergement médicalisé"},
    {"87.20A", "Hébergement social pour handicapés mentaux et malades mentaux"},
    {"87.20B", "Hébergement social pour toxicomanes"},
    {"87.30A", "Hébergement social pour personnes âgées"},
    {"87.30B", "Hébergement social pour handicapés physiques"},
    {"87.90A", "Hébergement social pour enfants en difficultés"},
    {"87.90B", "Hébergement social pour adultes et familles en difficultés et autre hébergement social"},
    {"88.10A", "Aide à domicile"},
    {"88.10B", "Accueil ou accompagnement sans hébergement d'adultes handicapés ou de personnes âgées"},
    {"88.10C", "Aide par le travail"},
    {"88.91A", "Accueil de jeunes enfants"},
    {"88.91B", "Accueil ou accompagnement sans hébergement d'enfants handicapés"},
    {"88.99A", "Autre accueil ou accompagnement sans hébergement d'enfants et d'adolescents"},
    {"88.99B", "Action sociale sans hébergement n.c.a."},
    {"90.01Z", "Arts du spectacle vivant"},
    {"90.02Z", "Activités de soutien au spectacle vivant"},
    {"90.03A", "Création artistique relevant des arts plastiques"},
    {"90.03B", "Autre création artistique"},
    {"90.04Z", "Gestion de salles de spectacles"},
    {"91.01Z", "Gestion des bibliothèques et des archives"},
    {"91.02Z", "Gestion des musées"},
    {"91.03Z", "Gestion des sites et monuments historiques et des attractions touristiques similaires"},
    {"91.04Z", "Gestion des jardins botaniques et zoologiques et des réserves naturelles"},
    {"93.11Z", "Gestion d'installations sportives"},
    {"93.12Z", "Activités de clubs de sports"},
    {"93.13Z", "Activités des centres de culture physique"},
    {"93.19Z", "Autres activités liées au sport"},
    {"93.21Z", "Activités des parcs d'attractions et parcs à thèmes"},
    {"93.29Z", "Autres activités récréatives et de loisirs"},
    {"94.11Z", "Activités des organisations patronales et consulaires"},
    {"94.12Z", "Activités des organisations professionnelles"},
    {"94.20Z", "Activités des syndicats de salariés"},
    {"94.91Z", "Activités des organisations religieuses"},
    {"94.92Z", "Activités des organisations politiques"},
    {"94.99Z", "Autres organisations fonctionnant par adhésion volontaire"},
    {"95.11Z", "Réparation d'ordinateurs et d'équipements périphériques"},
    {"95.12Z", "Réparation d'équipements de communication"},
    {"95.21Z", "Réparation de produits électroniques grand public"},
    {"95.22Z", "Réparation d'appareils électroménagers et d'équipements pour la maison et le jardin"},
    {"95.23Z", "Réparation de chaussures et d'articles en cuir"},
    {"95.24Z", "Réparation de meubles et d'équipements du foyer"},
    {"95.25Z", "Réparation d'articles d'horlogerie et de bijouterie"},
    {"95.29Z", "Réparation d'autres biens personnels et domestiques"},
    {"96.01A", "Blanchisserie-teinturerie de gros"},
    {"96.01B", "Blanchisserie-teinturerie de détail"},
    {"96.02A", "Coiffure"},
    {"96.02B", "Soins de beauté"},
    {"96.03Z", "Services funéraires"},
    {"96.04Z", "Entretien corporel"},
    {"96.09Z", "Autres services personnels n.c.a."},
};

// The 88 divisions of NAF rev. 2 (the first two digits of a code; 04, 34, 40, 44, 48, 54, 57, 67, 76, 83, 89
// do not exist), with their official labels. Sorted by code.
constexpr NafActivity kDivisions[] = {
    {"01", "Culture et production animale, chasse et services annexes"},
    {"02", "Sylviculture et exploitation forestière"},
    {"03", "Pêche et aquaculture"},
    {"05", "Extraction de houille et de lignite"},
    {"06", "Extraction d'hydrocarbures"},
    {"07", "Extraction de minerais métalliques"},
    {"08", "Autres industries extractives"},
    {"09", "Services de soutien aux industries extractives"},
    {"10", "Industries alimentaires"},
    {"11", "Fabrication de boissons"},
    {"12", "Fabrication de produits à base de tabac"},
    {"13", "Fabrication de textiles"},
    {"14", "Industrie de l'habillement"},
    {"15", "Industrie du cuir et de la chaussure"},
    {"16",
     "Travail du bois et fabrication d'articles en bois et en liège, à l'exception des meubles ; fabrication "
     "d'articles en vannerie et sparterie"},
    {"17", "Industrie du papier et du carton"},
    {"18", "Imprimerie et reproduction d'enregistrements"},
    {"19", "Cokéfaction et raffinage"},
    {"20", "Industrie chimique"},
    {"21", "Industrie pharmaceutique"},
    {"22", "Fabrication de produits en caoutchouc et en plastique"},
    {"23", "Fabrication d'autres produits minéraux non métalliques"},
    {"24", "Métallurgie"},
    {"25", "Fabrication de produits métalliques, à l'exception des machines et des équipements"},
    {"26", "Fabrication de produits informatiques, électroniques et optiques"},
    {"27", "Fabrication d'équipements électriques"},
    {"28", "Fabrication de machines et équipements n.c.a."},
    {"29", "Industrie automobile"},
    {"30", "Fabrication d'autres matériels de transport"},
    {"31", "Fabrication de meubles"},
    {"32", "Autres industries manufacturières"},
    {"33", "Réparation et installation de machines et d'équipements"},
    {"35", "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné"},
    {"36", "Captage, traitement et distribution d'eau"},
    {"37", "Collecte et traitement des eaux usées"},
    {"38", "Collecte, traitement et élimination des déchets ; récupération"},
    {"39", "Dépollution et autres services de gestion des déchets"},
    {"41", "Construction de bâtiments"},
    {"42", "Génie civil"},
    {"43", "Travaux de construction spécialisés"},
    {"45", "Commerce et réparation d'automobiles et de motocycles"},
    {"46", "Commerce de gros, à l'exception des automobiles et des motocycles"},
    {"47", "Commerce de détail, à l'exception des automobiles et des motocycles"},
    {"49", "Transports terrestres et transport par conduites"},
    {"50", "Transports par eau"},
    {"51", "Transports aériens"},
    {"52", "Entreposage et services auxiliaires des transports"},
    {"53", "Activités de poste et de courrier"},
    {"55", "Hébergement"},
    {"56", "Restauration"},
    {"58", "Édition"},
    {"59",
     "Production de films cinématographiques, de vidéo et de programmes de télévision ; enregistrement "
     "sonore et édition musicale"},
    {"60", "Programmation et diffusion"},
    {"61", "Télécommunications"},
    {"62", "Programmation, conseil et autres activités informatiques"},
    {"63", "Services d'information"},
    {"64", "Activités des services financiers, hors assurance et caisses de retraite"},
    {"65", "Assurance"},
    {"66", "Activités auxiliaires de services financiers et d'assurance"},
    {"68", "Activités immobilières"},
    {"69", "Activités juridiques et comptables"},
    {"70", "Activités des sièges sociaux ; conseil de gestion"},
    {"71", "Activités d'architecture et d'ingénierie ; activités de contrôle et analyses techniques"},
    {"72", "Recherche-développement scientifique"},
    {"73", "Publicité et études de marché"},
    {"74", "Autres activités spécialisées, scientifiques et techniques"},
    {"75", "Activités vétérinaires"},
    {"77", "Activités de location et location-bail"},
    {"78", "Activités liées à l'emploi"},
    {"79", "Activités des agences de voyage, voyagistes, services de réservation et activités connexes"},
    {"80", "Enquêtes et sécurité"},
    {"81", "Services relatifs aux bâtiments et aménagement paysager"},
    {"82", "Activités administratives et autres activités de soutien aux entreprises"},
    {"84", "Administration publique et défense ; sécurité sociale obligatoire"},
    {"85", "Enseignement"},
    {"86", "Activités pour la santé humaine"},
    {"87", "Hébergement médico-social et social"},
    {"88", "Action sociale sans hébergement"},
    {"90", "Activités créatives, artistiques et de spectacle"},
    {"91", "Bibliothèques, archives, musées et autres activités culturelles"},
    {"92", "Organisation de jeux de hasard et d'argent"},
    {"93", "Activités sportives, récréatives et de loisirs"},
    {"94", "Activités des organisations associatives"},
    {"95", "Réparation d'ordinateurs et de biens personnels et domestiques"},
    {"96", "Autres services personnels"},
    {"97", "Activités des ménages en tant qu'employeurs de personnel domestique"},
    {"98",
     "Activités indifférenciées des ménages en tant que producteurs de biens et services pour usage propre"},
    {"99", "Activités des organisations et organismes extraterritoriaux"},
};

// What a local shop is: this list is the single place that defines it, for `import merchants --naf local`.
// A local shop is a shop front or market stall that residents walk to for everyday or regular needs and
// that is, in most towns, run independently. Kept:
// - food made on the premises: charcuterie (10.13B) and bakeries and pastry shops (10.71B, 10.71C, 10.71D;
//   10.71A is the industrial bakery);
// - the corner grocery and the supérette (47.11B, 47.11C), and the food specialists: greengrocers, butchers,
//   fishmongers, bread and sweet shops, wine shops, tobacconists, cheese and delicatessen shops (47.21Z to
//   47.29Z);
// - the town-centre shops people come back to: hardware under 400 m² (47.52A), bookshops, newsagents and
//   stationers (47.61Z, 47.62Z), toys (47.65Z), clothing, shoes and leather goods (47.71Z, 47.72A, 47.72B),
//   pharmacies (47.73Z), florists (47.76Z), watchmakers and jewellers (47.77Z), opticians (47.78A);
// - market stalls (47.81Z, 47.82Z, 47.89Z);
// - restaurants, fast food (sandwich shops, pizzerias, kebabs) and cafés and bars (56.10A, 56.10C, 56.30Z);
// - repair counters: phones (95.12Z, today's phone-repair shop fronts), cobblers (95.23Z), upholsterers
//   (95.24Z), watch and jewellery repair (95.25Z), bicycles, alterations and keys (95.29Z);
// - dry cleaners (96.01B), hairdressers (96.02A) and beauty salons (96.02B).
// Left out on purpose: supermarkets, hypermarkets, department stores and other large surfaces (47.11D to
// 47.19B, 47.52B), frozen-food stores (47.11A, mostly chains), catch-all or chain-dominated retail (computers
// 47.41Z, household equipment 47.59B, sports 47.64Z, perfume 47.75Z, other specialised 47.78C), second-hand
// dealers (47.79Z), distance and door-to-door selling (47.91A to 47.99B), cafeterias, caterers and contract
// catering (56.10B, 56.21Z, 56.29A, 56.29B), repairs mostly done at the customer's or for businesses (95.11Z,
// 95.21Z, 95.22Z), and wholesale (division 46). Sorted by code.
constexpr std::string_view kLocalShopCodes[] = {
    "10.13B", "10.71B", "10.71C", "10.71D",                                // made on the premises
    "47.11B", "47.11C",                                                    // groceries
    "47.21Z", "47.22Z", "47.23Z", "47.24Z", "47.25Z", "47.26Z", "47.29Z",  // food specialists
    "47.52A", "47.61Z", "47.62Z", "47.65Z", "47.71Z", "47.72A", "47.72B",  // town-centre shops
    "47.73Z", "47.76Z", "47.77Z", "47.78A",                                // town-centre shops
    "47.81Z", "47.82Z", "47.89Z",                                          // markets
    "56.10A", "56.10C", "56.30Z",                                          // restaurants and cafés
    "95.12Z", "95.23Z", "95.24Z", "95.25Z", "95.29Z",                      // repairs
    "96.01B", "96.02A", "96.02B",                                          // personal services
};

// The entry whose code is `code`, or nullptr; `entries` is sorted by code.
constexpr const NafActivity* FindByCode(std::span<const NafActivity> entries, std::string_view code) {
  auto found = std::ranges::lower_bound(entries, code, {}, &NafActivity::code);
  return found != entries.end() && found->code == code ? &*found : nullptr;
}

constexpr bool IsStrictlySorted(std::span<const NafActivity> entries) {
  return std::ranges::adjacent_find(entries, std::ranges::greater_equal{}, &NafActivity::code) ==
         entries.end();
}

constexpr bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// A sub-class is "NN.NNL" and belongs to a division of kDivisions.
constexpr bool AllSubClassesWellFormed() {
  return std::ranges::all_of(kActivities, [](const NafActivity& activity) {
    std::string_view code = activity.code;
    return code.size() == 6 && IsDigit(code[0]) && IsDigit(code[1]) && code[2] == '.' && IsDigit(code[3]) &&
           IsDigit(code[4]) && code[5] >= 'A' && code[5] <= 'Z' && !activity.label.empty() &&
           FindByCode(kDivisions, code.substr(0, 2)) != nullptr;
  });
}

// The local-shop codes are sorted, without duplicates, and each is a sub-class with a label.
constexpr bool AllLocalShopCodesKnown() {
  return std::ranges::adjacent_find(kLocalShopCodes, std::ranges::greater_equal{}) ==
             std::end(kLocalShopCodes) &&
         std::ranges::all_of(kLocalShopCodes,
                             [](std::string_view code) { return FindByCode(kActivities, code) != nullptr; });
}

static_assert(IsStrictlySorted(kActivities), "kActivities must be sorted by code, without duplicates");
static_assert(IsStrictlySorted(kDivisions), "kDivisions must be sorted by code, without duplicates");
static_assert(std::size(kDivisions) == 88, "NAF rev. 2 has 88 divisions");
static_assert(AllSubClassesWellFormed(), "every sub-class is NN.NNL and belongs to a known division");
static_assert(AllLocalShopCodesKnown(), "kLocalShopCodes must be sorted sub-classes of kActivities");

}  // namespace

std::string NormaliseNafCode(std::string_view code) {
  std::string compact(code);
  if (compact.size() == 6 && compact[2] == '.') compact.erase(2, 1);
  if (compact.size() != 5 || !std::ranges::all_of(compact.substr(0, 4), IsDigit)) return {};
  char letter = compact[4];
  if (letter >= 'a' && letter <= 'z') letter = static_cast<char>(letter - 'a' + 'A');
  if (letter < 'A' || letter > 'Z') return {};
  return {compact[0], compact[1], '.', compact[2], compact[3], letter};
}

std::string NafLabel(std::string_view code) {
  const std::string normalised = NormaliseNafCode(code);
  if (normalised.empty()) return {};
  if (const NafActivity* activity = FindByCode(kActivities, normalised)) return std::string(activity->label);
  if (const NafActivity* division = FindByCode(kDivisions, std::string_view(normalised).substr(0, 2))) {
    return std::string(division->label);
  }
  return {};
}

const std::vector<std::string_view>& LocalShopNafCodes() {
  static const std::vector<std::string_view> codes(std::begin(kLocalShopCodes), std::end(kLocalShopCodes));
  return codes;
}

bool IsLocalShopNaf(std::string_view code) {
  const std::string normalised = NormaliseNafCode(code);
  return !normalised.empty() && std::ranges::binary_search(kLocalShopCodes, std::string_view(normalised));
}

}  // namespace voisinage
