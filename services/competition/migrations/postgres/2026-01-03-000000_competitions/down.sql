DROP TABLE bids; DROP TABLE competition_invitations; DROP TABLE competitions; DROP TABLE admissions; DROP TABLE lots; DROP TABLE frameworks;
