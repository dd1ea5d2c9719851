DROP TABLE ipa_reviews;
DROP TABLE ipa_versions;
DROP TABLE ipas;
