-- The "HRDB" database of the ECMA example, for MySQL 8 and MariaDB 10.5 or later.
--
-- The same tables as schema.sql, plus the stored procedures an ECMA Generic SQL connector's
-- export run profile often calls ("Operation Method: Stored Procedure"). ecma.map writes the
-- tables directly; ecma-procedures.map calls these procedures instead.
--
-- Load it with the mysql (or mariadb) client, which understands DELIMITER:
--     mysql -h 127.0.0.1 -u root hrdb < examples/ecma/schema.mysql.sql

CREATE TABLE IF NOT EXISTS Employees (
  EmployeeID     INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  AccountName    VARCHAR(256) NOT NULL,
  FirstName      VARCHAR(128),
  LastName       VARCHAR(128),
  DisplayName    VARCHAR(256),
  Email          VARCHAR(256),
  JobTitle       VARCHAR(128),
  Department     VARCHAR(128),
  EmployeeNumber VARCHAR(64),
  ManagerID      INT,
  AzureID        VARCHAR(64),  -- the Entra objectId, as the Microsoft SQL tutorial stores it
  CostCenter     VARCHAR(64),
  IsActive       TINYINT(1)   NOT NULL DEFAULT 1,
  Created        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  -- the watermark: the server moves it on every update, to the microsecond
  LastModified   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  UNIQUE KEY Employees_AccountName (AccountName),
  KEY Employees_LastModified (LastModified),
  CONSTRAINT Employees_Manager FOREIGN KEY (ManagerID) REFERENCES Employees (EmployeeID) ON DELETE SET NULL
);

-- "AppGroups", not "Groups": GROUPS is a reserved word in MySQL 8.
CREATE TABLE IF NOT EXISTS AppGroups (
  GroupID      INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  GroupName    VARCHAR(256) NOT NULL,
  AzureID      VARCHAR(64),
  LastModified DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  UNIQUE KEY AppGroups_GroupName (GroupName)
);

CREATE TABLE IF NOT EXISTS GroupMembers (
  GroupID    INT NOT NULL,
  EmployeeID INT NOT NULL,
  PRIMARY KEY (GroupID, EmployeeID),
  CONSTRAINT GroupMembers_Group FOREIGN KEY (GroupID) REFERENCES AppGroups (GroupID) ON DELETE CASCADE,
  CONSTRAINT GroupMembers_Employee FOREIGN KEY (EmployeeID) REFERENCES Employees (EmployeeID)
    ON DELETE CASCADE
);

DROP TRIGGER IF EXISTS GroupMembers_insert;
DROP TRIGGER IF EXISTS GroupMembers_delete;
DROP PROCEDURE IF EXISTS CreateEmployee;
DROP PROCEDURE IF EXISTS UpdateEmployee;
DROP PROCEDURE IF EXISTS DeleteEmployee;

DELIMITER //

-- A membership change is a change of the group: move the group's watermark too.
CREATE TRIGGER GroupMembers_insert AFTER INSERT ON GroupMembers FOR EACH ROW
BEGIN
  UPDATE AppGroups SET LastModified = CURRENT_TIMESTAMP(6) WHERE GroupID = NEW.GroupID;
END //

CREATE TRIGGER GroupMembers_delete AFTER DELETE ON GroupMembers FOR EACH ROW
BEGIN
  UPDATE AppGroups SET LastModified = CURRENT_TIMESTAMP(6) WHERE GroupID = OLD.GroupID;
END //

-- The export procedures. The parameters are in the order ecma-procedures.map passes them.
CREATE PROCEDURE CreateEmployee(
  IN pAccountName VARCHAR(256), IN pFirstName VARCHAR(128), IN pLastName VARCHAR(128),
  IN pDisplayName VARCHAR(256), IN pEmail VARCHAR(256), IN pJobTitle VARCHAR(128),
  IN pDepartment VARCHAR(128), IN pEmployeeNumber VARCHAR(64), IN pManagerID INT,
  IN pAzureID VARCHAR(64), IN pCostCenter VARCHAR(64), IN pIsActive TINYINT(1))
BEGIN
  INSERT INTO Employees (AccountName, FirstName, LastName, DisplayName, Email, JobTitle, Department,
                         EmployeeNumber, ManagerID, AzureID, CostCenter, IsActive)
  VALUES (pAccountName, pFirstName, pLastName, pDisplayName, pEmail, pJobTitle, pDepartment,
          pEmployeeNumber, pManagerID, pAzureID, pCostCenter, COALESCE(pIsActive, 1));
END //

CREATE PROCEDURE UpdateEmployee(
  IN pEmployeeID INT,
  IN pAccountName VARCHAR(256), IN pFirstName VARCHAR(128), IN pLastName VARCHAR(128),
  IN pDisplayName VARCHAR(256), IN pEmail VARCHAR(256), IN pJobTitle VARCHAR(128),
  IN pDepartment VARCHAR(128), IN pEmployeeNumber VARCHAR(64), IN pManagerID INT,
  IN pAzureID VARCHAR(64), IN pCostCenter VARCHAR(64), IN pIsActive TINYINT(1))
BEGIN
  UPDATE Employees
     SET AccountName = pAccountName, FirstName = pFirstName, LastName = pLastName,
         DisplayName = pDisplayName, Email = pEmail, JobTitle = pJobTitle,
         Department = pDepartment, EmployeeNumber = pEmployeeNumber, ManagerID = pManagerID,
         AzureID = pAzureID, CostCenter = pCostCenter, IsActive = COALESCE(pIsActive, IsActive)
   WHERE EmployeeID = pEmployeeID;
END //

CREATE PROCEDURE DeleteEmployee(IN pEmployeeID INT)
BEGIN
  DELETE FROM Employees WHERE EmployeeID = pEmployeeID;
END //

DELIMITER ;
