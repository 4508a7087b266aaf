-- Tried as a new user (the shape of a legacy HR database): teams keyed by a short code the client
-- must fill, which is not the team's name: the scaffold leaves the group's anchor 'from PATH'.
CREATE TABLE "Staff" (
  "StaffID"   INTEGER PRIMARY KEY,
  "LoginName" VARCHAR(64) NOT NULL UNIQUE,
  "FirstName" VARCHAR(50),
  "LastName"  VARCHAR(50)
);
CREATE TABLE "Teams" (
  "TeamCode" VARCHAR(20) PRIMARY KEY,
  "TeamName" VARCHAR(100) NOT NULL UNIQUE
);
CREATE TABLE "TeamMembers" (
  "TeamCode" VARCHAR(20) NOT NULL REFERENCES "Teams" ON DELETE CASCADE,
  "StaffID"  INTEGER NOT NULL REFERENCES "Staff" ON DELETE CASCADE,
  PRIMARY KEY ("TeamCode", "StaffID")
);
