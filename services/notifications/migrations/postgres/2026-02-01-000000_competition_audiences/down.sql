DROP TABLE competition_invitees;
DROP TABLE tracked_competitions;
