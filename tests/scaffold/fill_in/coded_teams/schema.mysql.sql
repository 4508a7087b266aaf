-- Teams keyed by a short code that is not the team's name (see schema.sql).
CREATE TABLE Staff (
  StaffID   INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  LoginName VARCHAR(64) NOT NULL UNIQUE,
  FirstName VARCHAR(50),
  LastName  VARCHAR(50)
);
CREATE TABLE Teams (
  TeamCode VARCHAR(20) NOT NULL PRIMARY KEY,
  TeamName VARCHAR(100) NOT NULL UNIQUE
);
CREATE TABLE TeamMembers (
  TeamCode VARCHAR(20) NOT NULL,
  StaffID  INT NOT NULL,
  PRIMARY KEY (TeamCode, StaffID),
  FOREIGN KEY (TeamCode) REFERENCES Teams (TeamCode) ON DELETE CASCADE,
  FOREIGN KEY (StaffID) REFERENCES Staff (StaffID) ON DELETE CASCADE
);
