-- Sample rows for the ECMA example (SQLite). `mapper serve ... --seed examples/ecma/sample-data.sql`
-- loads them when the database is new.

INSERT INTO Employees (EmployeeID, AccountName, FirstName, LastName, DisplayName, Email, JobTitle,
                       Department, EmployeeNumber, ManagerID, CostCenter, IsActive)
VALUES
  (1, 'adele.vance',    'Adele',  'Vance',    'Adele Vance',    'adele.vance@contoso.example',
      'Head of Operations', 'Operations', 'E1001', NULL, 'CC-100', 1),
  (2, 'alex.wilber',    'Alex',   'Wilber',   'Alex Wilber',    'alex.wilber@contoso.example',
      'Operations Analyst', 'Operations', 'E1002', 1, 'CC-100', 1),
  (3, 'megan.bowen',    'Megan',  'Bowen',    'Megan Bowen',    'megan.bowen@contoso.example',
      'Marketing Manager', 'Marketing', 'E1003', 1, 'CC-200', 1),
  (4, 'lynne.robbins',  'Lynne',  'Robbins',  'Lynne Robbins',  'lynne.robbins@contoso.example',
      'Planner', 'Marketing', 'E1004', 3, 'CC-200', 1),
  (5, 'diego.siciliani', 'Diego', 'Siciliani', 'Diego Siciliani', 'diego.siciliani@contoso.example',
      'HR Specialist', 'Human Resources', 'E1005', 1, 'CC-300', 0);

INSERT INTO AppGroups (GroupID, GroupName) VALUES (1, 'Operations'), (2, 'Marketing');

INSERT INTO GroupMembers (GroupID, EmployeeID) VALUES (1, 1), (1, 2), (2, 3), (2, 4);
