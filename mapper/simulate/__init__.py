"""``mapper simulate``: replay the Microsoft Entra ID provisioning service against a gateway."""
