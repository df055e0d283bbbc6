// Education desktop groups: the list (`#/edu`) with the create wizard, and
// a group's detail with its desktops (`#/edu/<uuid>`).
import { PageProps } from '../../app/pages';
import { Detail } from './Detail';
import { GroupList } from './List';

export default function Page({ rest }: PageProps) {
  return rest[0] ? <Detail uuid={rest[0]} /> : <GroupList />;
}
